/* fanguard: the operator's CLI. status and reload talk to fanguardd over its
 * status socket; check-config and explain load the configuration with the
 * daemon's own code (config, policy, proc), so what they say is what the
 * daemon does. Exit codes are listed in fanguard(8). */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fanguard/config.h"
#include "fanguard/deploycli.h"
#include "fanguard/ident.h"
#include "fanguard/json.h"
#include "fanguard/policy.h"
#include "fanguard/proc.h"
#include "fanguard/status.h"
#include "fanguard/twins.h"
#include "fanguard/unitcg.h"
#include "fanguard/util.h"

#define EXIT_GUARDED	 0 /* status: running and enforcing; explain: allow */
#define EXIT_PARTIAL	 1 /* status: audit or degraded; explain: deny; reload: refused */
#define EXIT_USAGE	 2
#define EXIT_NOT_RUNNING 3
#define EXIT_DENIED	 4 /* not allowed to ask the daemon */
#define EXIT_CONFIG	 78

#define REPLY_TIMEOUT_MS 10000

struct client_opts {
	const char *socket;
	const char *config;
	bool json;
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: fanguard status [--json] [--socket PATH | --config FILE]\n"
		"       fanguard reload [--socket PATH | --config FILE]\n"
		"       fanguard check-config [FILE]\n"
		"       fanguard explain --path PATH (--pid PID | --exe EXE [--auid N|unset]\n"
		"                        [--uid N] [--ancestor EXE]... [--comm C] [--cgroup CG])\n"
		"                        [--config FILE] [--json]\n"
		"       fanguard deployments [--config FILE] [--status FILE|-] [--state FILE]\n"
		"                        [--json]\n"
		"       fanguard --version\n"
		"See fanguard(8).\n");
}

static void print_diag(const struct fg_diag *diag)
{
	for (unsigned i = 0; i < diag->n; i++)
		fprintf(stderr, "%s\n", diag->msg[i]);
	if (diag->dropped)
		fprintf(stderr, "(%u more errors)\n", diag->dropped);
}

/* ---- talking to the daemon ---- */

/* --socket, else the status_socket of an explicit --config, else the fixed
 * default. Without --config nothing is read: the default config lives in
 * /etc/fanguard, a guarded subtree, and status must answer even when the
 * daemon cannot (or the config is broken). */
static void socket_path(const struct client_opts *o, char *out, size_t size)
{
	struct fg_config cfg;
	struct fg_diag *diag;

	fg_strlcpy(out, FG_STATUS_SOCKET_DEFAULT, size);
	if (o->socket) {
		fg_strlcpy(out, o->socket, size);
		return;
	}
	if (!o->config)
		return;
	diag = calloc(1, sizeof(*diag));
	if (diag && fg_config_load(&cfg, o->config, diag) == 0) {
		fg_strlcpy(out, cfg.status_socket, size);
		fg_config_free(&cfg);
	}
	free(diag);
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	_cleanup_close_ int fd = -1;
	int r;

	if (fg_strlcpy(sa.sun_path, path, sizeof(sa.sun_path)) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	r = fd;
	fd = -1;
	return r;
}

/* Reads until the daemon closes, into a growing buffer. Returns 0 or -errno. */
static int read_reply(int fd, char **ret, size_t *ret_len)
{
	size_t len = 0, cap = 64 * 1024;
	_cleanup_free_ char *buf = malloc(cap + 1);
	struct pollfd p = {.fd = fd, .events = POLLIN};

	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;
		int k = poll(&p, 1, REPLY_TIMEOUT_MS);

		if (k == 0)
			return -ETIMEDOUT;
		if (k < 0 && errno != EINTR)
			return -errno;
		if (len == cap) {
			char *nb = realloc(buf, 2 * cap + 1);
			if (!nb)
				return -ENOMEM;
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len);
		/* The daemon closing on a request it did not read (a refused
		 * peer) shows as a reset after its answer: that is the end. */
		if (n < 0 && errno == ECONNRESET && len > 0)
			break;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -errno;
		if (n == 0)
			break;
		if (n > 0)
			len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	buf = NULL;
	return 0;
}

static int not_running(const char *path, const char *why)
{
	fprintf(stderr,
		"fanguard: fanguardd is not running (%s: %s).\n"
		"WARNING: writes to the protected subtrees are NOT being guarded.\n",
		path, why);
	return EXIT_NOT_RUNNING;
}

/* Sends req and returns the reply in *ret (status line and body), or an
 * exit code when there is no usable reply (already explained on stderr). */
static int ask(const struct client_opts *o, const char *req, char **ret)
{
	char path[108], line[FG_STATUS_REQ_MAX + 2];
	_cleanup_close_ int fd = -1;
	size_t len = 0;
	int r;

	socket_path(o, path, sizeof(path));
	fd = connect_to(path);
	if (fd == -EACCES || fd == -EPERM) {
		fprintf(stderr, "fanguard: %s: permission denied (root or status_group only)\n",
			path);
		return EXIT_DENIED;
	}
	if (fd < 0)
		return not_running(path, strerror(-fd));
	snprintf(line, sizeof(line), "%s\n", req);
	/* A refused peer gets its answer and the close at once, so the send
	 * may fail: what the daemon said is still there to read. */
	(void)!send(fd, line, strlen(line), MSG_NOSIGNAL);
	r = read_reply(fd, ret, &len);
	if (r < 0 || len == 0 || !memchr(*ret, '\n', len)) {
		if (r == 0)
			free(*ret);
		*ret = NULL;
		return not_running(path, r < 0 ? strerror(-r) : "no reply");
	}
	if (!strncmp(*ret, "ERR permission denied", 21)) {
		fprintf(stderr,
			"fanguard: %s: the daemon refused this user (root or status_group only)\n",
			path);
		free(*ret);
		*ret = NULL;
		return EXIT_DENIED;
	}
	return 0;
}

static int parse_client_opts(int argc, char **argv, struct client_opts *o, bool allow_json)
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
	struct client_opts o = {0};
	_cleanup_free_ char *reply = NULL;
	char *body;
	int r;

	if (parse_client_opts(argc, argv, &o, true) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	r = ask(&o, o.json ? "status json" : "status text", &reply);
	if (r)
		return r;
	body = strchr(reply, '\n') + 1;
	*strchr(reply, '\n') = '\0';
	fputs(body, stdout);
	if (!strcmp(reply, "OK enforcing"))
		return EXIT_GUARDED;
	if (!strcmp(reply, "OK audit") || !strcmp(reply, "OK degraded"))
		return EXIT_PARTIAL;
	fprintf(stderr, "fanguard: unexpected reply: %s\n", reply);
	return EXIT_PARTIAL;
}

static int cmd_reload(int argc, char **argv)
{
	struct client_opts o = {0};
	_cleanup_free_ char *reply = NULL;
	int r;

	if (parse_client_opts(argc, argv, &o, false) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	r = ask(&o, "reload", &reply);
	if (r)
		return r;
	*strchr(reply, '\n') = '\0';
	if (!strncmp(reply, "OK ", 3)) {
		printf("%s\n", reply + 3);
		return 0;
	}
	fprintf(stderr, "fanguard: %s\n", !strncmp(reply, "ERR ", 4) ? reply + 4 : reply);
	return EXIT_PARTIAL;
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
	if (!l->any && !l->n)
		return;
	printf("    %-9s", label);
	if (l->any)
		printf(" *");
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

	if (argc > 2 || (argc == 2 && argv[1][0] == '-')) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!diag)
		return EXIT_CONFIG;
	if (fg_config_load(&cfg, argc == 2 ? argv[1] : NULL, diag) < 0) {
		print_diag(diag);
		fprintf(stderr, "fanguard: configuration is invalid\n");
		return EXIT_CONFIG;
	}
	print_diag(diag);
	print_summary(&cfg);
	fg_config_free(&cfg);
	return 0;
}

/* ---- explain ---- */

struct explain_opts {
	const char *path;
	const char *config;
	pid_t pid;
	const char *exe, *comm, *cgroup;
	uint32_t uid, auid;
	const char *ancestors[FG_ANCESTRY_MAX];
	unsigned n_ancestors;
	bool json;
};

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
	uint32_t v;

	switch (c) {
	case 'p':
		o->path = optarg;
		return 0;
	case 'P':
		if (fg_parse_u32(optarg, &v) < 0 || v == 0 || v > INT32_MAX)
			return -EINVAL;
		o->pid = (pid_t)v;
		return 0;
	case 'e':
		o->exe = optarg;
		return 0;
	case 'a':
		return parse_id(optarg, &o->auid);
	case 'u':
		return parse_id(optarg, &o->uid);
	case 'A':
		if (o->n_ancestors == FG_ANCESTRY_MAX)
			return -E2BIG;
		o->ancestors[o->n_ancestors++] = optarg;
		return 0;
	case 'C':
		o->comm = optarg;
		return 0;
	case 'g':
		o->cgroup = optarg;
		return 0;
	case 'c':
		o->config = optarg;
		return 0;
	case 'j':
		o->json = true;
		return 0;
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
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	bool fake = false;
	int c;

	o->auid = FG_AUID_UNSET;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (explain_opt(o, c) < 0)
			return -EINVAL;
		fake = fake || strchr("eauACg", c);
	}
	if (optind < argc || !o->path || (!o->pid == !o->exe) || (o->pid && fake))
		return -EINVAL;
	return 0;
}

/* The writer as the flags describe it; ancestors in order, parent first. */
static int fake_proc(const struct explain_opts *o, struct fg_proc *w)
{
	const char *base = strrchr(o->exe, '/');

	memset(w, 0, sizeof(*w));
	w->uid = o->uid;
	w->auid = o->auid;
	w->sessionid = FG_AUID_UNSET;
	fg_strlcpy(w->exe, o->exe, sizeof(w->exe));
	fg_strlcpy(w->comm, o->comm ? o->comm : base ? base + 1 : o->exe, sizeof(w->comm));
	fg_strlcpy(w->cgroup, o->cgroup ? o->cgroup : "", sizeof(w->cgroup));
	w->arena[0] = '\0';
	w->arena_used = 1;
	for (unsigned i = 0; i < o->n_ancestors; i++) {
		size_t n = strlen(o->ancestors[i]) + 1;
		const char *ab = strrchr(o->ancestors[i], '/');

		if (w->arena_used + n > FG_ARENA_LEN)
			return -E2BIG;
		memcpy(w->arena + w->arena_used, o->ancestors[i], n);
		w->anc[i].exe_off = w->arena_used;
		w->arena_used += (uint32_t)n;
		fg_strlcpy(w->anc[i].comm, ab ? ab + 1 : o->ancestors[i], sizeof(w->anc[i].comm));
		w->n_ancestors++;
	}
	return 0;
}

static const char *verdict_word(const struct fg_decision *d)
{
	if (d->verdict == FG_VERDICT_ALLOW)
		return "allow";
	return d->mode == FG_MODE_AUDIT ? "would-deny" : "deny";
}

static const char *reason_word(const struct fg_decision *d)
{
	return d->reason == FG_REASON_RULE		  ? "rule"
	       : d->reason == FG_REASON_TRANSACTION	  ? "transaction"
	       : d->reason == FG_REASON_CGROUP_UNVERIFIED ? "cgroup-unverified"
							  : "no-rule";
}

static void explain_text(const struct fg_policy *p, unsigned st, const struct fg_proc *w,
			 const struct fg_decision *d)
{
	const struct fg_subtree_cfg *s = &p->cfg.subtrees[st];
	char auid[16];

	snprintf(auid, sizeof(auid), "%u", w->auid);
	printf("subtree   %s (key %s, mode %s)\n", s->name, s->key, fg_mode_name(d->mode));
	printf("writer    %s (comm %s, uid %u, auid %s", w->exe[0] ? w->exe : "(unknown)", w->comm,
	       w->uid, w->auid == FG_AUID_UNSET ? "unset" : auid);
	if (w->pid)
		printf(", pid %d", (int)w->pid);
	printf(", %u ancestors)\n", w->n_ancestors);
	printf("decision  %s", verdict_word(d));
	if (d->reason == FG_REASON_RULE)
		printf(": writer rule %s (audit rule number %d)\n", p->cfg.writers[d->rule].name,
		       d->rule + 1);
	else if (d->reason == FG_REASON_TRANSACTION)
		printf(": transaction, %s runs %s\n",
		       d->tx_anc < 0 ? "the writer itself" : "an ancestor",
		       d->tx_anc < 0 ? w->exe : fg_proc_anc_exe(w, (unsigned)d->tx_anc));
	else if (d->reason == FG_REASON_CGROUP_UNVERIFIED)
		printf(": a rule names the writer's cgroup, but it is not the cgroup of a unit "
		       "systemd started\n");
	else if (d->tx_outside)
		printf(": no writer rule matches; a transaction exe is involved, but %s is outside "
		       "[transaction] scope = deployments%s\n",
		       p->cfg.subtrees[st].name,
		       d->mode == FG_MODE_AUDIT ? " (audit mode: allowed and logged)" : "");
	else
		printf(": no writer rule matches and no transaction exe is involved%s\n",
		       d->mode == FG_MODE_AUDIT ? " (audit mode: allowed and logged)" : "");
	if (d->reason == FG_REASON_RULE || p->cfg.n_writers == 0)
		return;
	printf("rules that do not match (first failing condition):\n");
	for (unsigned i = 0; i < p->cfg.n_writers; i++) {
		const char *why = fg_policy_rule_mismatch(p, i, st, w);
		if (why)
			printf("  %-30s %s\n", p->cfg.writers[i].name, why);
	}
}

static void explain_json(const struct fg_policy *p, int st, const char *path,
			 const struct fg_proc *w, const struct fg_decision *d)
{
	static char buf[256 * 1024];
	struct fg_json j;

	fg_json_init(&j, buf, sizeof(buf));
	fg_json_str_raw(&j, "path", path, strlen(path));
	if (st < 0) {
		fg_json_null(&j, "subtree");
		fg_json_str(&j, "decision", "allow");
		fg_json_str(&j, "reason", "outside");
		printf("%.*s\n", fg_json_finish(&j), buf);
		return;
	}
	fg_json_str(&j, "subtree", p->cfg.subtrees[st].name);
	fg_json_str(&j, "key", p->cfg.subtrees[st].key);
	fg_json_str(&j, "mode", fg_mode_name(d->mode));
	fg_json_str(&j, "decision", verdict_word(d));
	fg_json_str(&j, "reason",
		    d->verdict == FG_VERDICT_DENY && w->finding.problem
			? fg_ident_reason(w->finding.problem)
			: reason_word(d));
	if (d->verdict == FG_VERDICT_DENY && w->finding.problem)
		fg_json_str(&j, "identity_problem", fg_ident_problem_name(w->finding.problem));
	if (d->rule >= 0)
		fg_json_str(&j, "rule", p->cfg.writers[d->rule].name);
	/* The number the kernel's AUDIT_FANOTIFY record carries (audit_records):
	 * the rule's place among the [writer] sections, 0 for none. */
	fg_json_i64(&j, "audit_rule_number", d->rule >= 0 ? d->rule + 1 : 0);
	if (d->reason == FG_REASON_TRANSACTION)
		fg_json_i64(&j, "transaction_ancestor", d->tx_anc);
	if (d->tx_outside)
		fg_json_bool(&j, "transaction_outside_scope", true);
	fg_json_str_raw(&j, "exe", w->exe, strlen(w->exe));
	fg_json_arr_open(&j, "mismatches");
	for (unsigned i = 0; i < p->cfg.n_writers && d->reason != FG_REASON_RULE; i++) {
		const char *why = fg_policy_rule_mismatch(p, i, (unsigned)st, w);
		if (!why)
			continue;
		fg_json_obj_open(&j, NULL);
		fg_json_str(&j, "rule", p->cfg.writers[i].name);
		fg_json_str(&j, "condition", why);
		fg_json_obj_close(&j);
	}
	fg_json_arr_close(&j);
	printf("%.*s\n", fg_json_finish(&j), buf);
}

static int load_policy(const char *config, struct fg_policy *ret)
{
	_cleanup_free_ struct fg_diag *diag = calloc(1, sizeof(*diag));
	struct fg_config cfg;

	if (!diag)
		return -ENOMEM;
	if (fg_config_load(&cfg, config, diag) < 0) {
		print_diag(diag);
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

/* A real process is decided as the daemon would: its identity verified
 * (digests hashed here, where waiting is fine). */
static void explain_decide(const struct fg_policy *pol, unsigned st, bool real, struct fg_proc *w,
			   struct fg_decision *d)
{
	struct fg_ident ix = {.hash_inline = true, .scratch = malloc(sizeof(*ix.scratch))};
	uint64_t ticket;

	if (!real || !ix.scratch ||
	    fg_ident_decide(&ix, pol, st, w, -2, true, d, &ticket) != FG_IDENT_DONE)
		fg_policy_decide(pol, st, w, d);
	free(ix.scratch);
}

static void explain_finding(const struct fg_proc *w, const struct fg_decision *d)
{
	const char *claimed;

	if (d->verdict != FG_VERDICT_DENY || !w->finding.problem)
		return;
	claimed = w->finding.who < 0 ? w->exe : fg_proc_anc_exe(w, (unsigned)w->finding.who);
	printf("identity  %s (%s): %s claims %s; found %s\n", fg_ident_reason(w->finding.problem),
	       fg_ident_problem_name(w->finding.problem),
	       w->finding.who < 0 ? "the writer" : "an ancestor", claimed,
	       w->finding.detail[0] ? w->finding.detail : "-");
}

static int explain_writer(const struct explain_opts *o, struct fg_proc *w)
{
	int r;

	if (!o->pid)
		return fake_proc(o, w);
	r = fg_proc_resolve(o->pid, w);
	if (r < 0)
		fprintf(stderr, "fanguard: cannot resolve pid %d: %s\n", (int)o->pid, strerror(-r));
	return r;
}

static int cmd_explain(int argc, char **argv)
{
	_cleanup_free_ struct explain_opts *o = calloc(1, sizeof(*o));
	_cleanup_free_ struct fg_proc *w = malloc(sizeof(*w));
	struct fg_policy pol;
	struct fg_decision d;
	struct fg_unitcg ucg;
	int st;

	if (!o || !w)
		return EXIT_USAGE;
	if (parse_explain(argc, argv, o) < 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (load_policy(o->config, &pol) < 0)
		return EXIT_CONFIG;
	st = fg_policy_match_path(&pol, o->path);
	if (st < 0) {
		if (o->json)
			explain_json(&pol, st, o->path, NULL, NULL);
		else
			printf("%s is not in any protected subtree: fanguard does not decide its "
			       "opens (allow)\n",
			       o->path);
		fg_policy_free(&pol);
		return EXIT_GUARDED;
	}
	if (explain_writer(o, w) < 0) {
		fg_policy_free(&pol);
		return EXIT_USAGE;
	}
	/* cgroup conditions are checked as the daemon would (it needs root to
	 * read a cgroup's trusted.invocation_id) */
	(void)fg_unitcg_open(&ucg);
	pol.unitcg = &ucg;
	fg_unitcg_fill(pol.unitcg, &pol, w);
	explain_decide(&pol, (unsigned)st, o->pid != 0, w, &d);
	fg_unitcg_close(&ucg);
	if (o->json) {
		explain_json(&pol, st, o->path, w, &d);
	} else {
		explain_text(&pol, (unsigned)st, w, &d);
		explain_finding(w, &d);
	}
	fg_policy_free(&pol);
	return d.verdict == FG_VERDICT_ALLOW ? EXIT_GUARDED : EXIT_PARTIAL;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	if (!cmd) {
		usage(stderr);
		return EXIT_USAGE;
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
		return cmd_explain(argc - 1, argv + 1);
	if (!strcmp(cmd, "deployments"))
		return fg_deployments_cli(argc - 1, argv + 1);
	fprintf(stderr, "fanguard: unknown command '%s'\n", cmd);
	usage(stderr);
	return EXIT_USAGE;
}
