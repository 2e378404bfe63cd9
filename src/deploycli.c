/* `fanguard deployments`: reads bootc's status (running `bootc status
 * --format=json`, or from --status), holds it to [deployments] and to the
 * saved state, logs each new finding as one event to the configured sink
 * (and to standard output with --json), and saves the new state. Only the
 * CLI runs bootc: fanguardd never executes anything. Exit codes are in
 * fanguard(8). */
#include "fanguard/deploycli.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fanguard/deployments.h"
#include "fanguard/log.h"
#include "fanguard/logfmt.h"
#include "fanguard/logschema.h"
#include "fanguard/util.h"

#define BOOTC_TIMEOUT_MS (120 * 1000)

extern char **environ;

struct opts {
	const char *config;
	const char *status; /* NULL: run bootc; "-": stdin */
	const char *state;
	bool json;
};

/* Everything one run holds; large, so it lives on the heap. */
struct ctx {
	struct opts o;
	struct fg_config cfg;
	bool have_cfg;
	struct fg_approved approved;
	struct fg_bootc_host host;
	struct fg_deploy_state prev, next;
	struct fg_sigpolicy_verdict sig;
	bool have_sig;
	struct fg_finding findings[FG_FINDINGS_MAX];
	unsigned n;
	struct fg_logger lg;
	bool have_lg;
	struct fg_loghost lhost;
	uint64_t seq; /* of the lines printed on stdout */
	char line[FG_LINE_CAP + 1];
	char err[FG_DEPLOY_ERR_LEN];
};

static int parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option opts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"status", required_argument, NULL, 's'},
	    {"state", required_argument, NULL, 'S'},
	    {"json", no_argument, NULL, 'j'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'c')
			o->config = optarg;
		else if (c == 's')
			o->status = optarg;
		else if (c == 'S')
			o->state = optarg;
		else if (c == 'j')
			o->json = true;
		else
			return -EINVAL;
	}
	return optind < argc ? -EINVAL : 0;
}

/* ---- reading the status ---- */

/* Reads fd to its end (at most FG_BOOTC_MAX_BYTES), waiting at most
 * timeout_ms in all (-1: no limit). Returns the length or -errno. */
static ssize_t read_fd(int fd, char *buf, size_t cap, int timeout_ms)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	uint64_t end = fg_now_ns() + (uint64_t)(timeout_ms < 0 ? 0 : timeout_ms) * 1000000ULL;
	size_t len = 0;

	for (;;) {
		int wait = -1;
		ssize_t n;

		if (timeout_ms >= 0) {
			uint64_t now = fg_now_ns();

			if (now >= end)
				return -ETIMEDOUT;
			wait = (int)((end - now) / 1000000ULL) + 1;
		}
		if (poll(&p, 1, wait) < 0 && errno != EINTR)
			return -errno;
		n = read(fd, buf + len, cap - len);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return (ssize_t)len;
		len += (size_t)n;
		if (len == cap)
			return -EFBIG;
	}
}

/* Runs `bootc status --format=json` with its output on a pipe. */
static int run_bootc(char *buf, size_t cap, size_t *ret_len, char *err, size_t errcap)
{
	char *argv[] = {"bootc", "status", "--format=json", NULL};
	posix_spawn_file_actions_t fa;
	int pfd[2], status, r;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], STDOUT_FILENO);
	r = posix_spawnp(&pid, "bootc", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (r != 0) {
		close(pfd[0]);
		snprintf(err, errcap, "cannot run bootc: %s", strerror(r));
		return -r;
	}
	n = read_fd(pfd[0], buf, cap, BOOTC_TIMEOUT_MS);
	close(pfd[0]);
	if (n < 0)
		kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (n < 0) {
		snprintf(err, errcap, "bootc status: %s", strerror((int)-n));
		return (int)n;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errcap, "bootc status failed (%s %d)",
			 WIFEXITED(status) ? "exit status" : "signal",
			 WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -EIO;
	}
	*ret_len = (size_t)n;
	return 0;
}

static int read_status(struct ctx *c, char *buf, size_t cap, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	ssize_t n;

	if (!c->o.status)
		return run_bootc(buf, cap, ret_len, c->err, sizeof(c->err));
	fd = strcmp(c->o.status, "-") ? open(c->o.status, O_RDONLY | O_CLOEXEC | O_NOCTTY)
				      : dup(STDIN_FILENO);
	if (fd < 0) {
		snprintf(c->err, sizeof(c->err), "%s: %s", c->o.status, strerror(errno));
		return -errno;
	}
	n = read_fd(fd, buf, cap, -1);
	if (n < 0) {
		snprintf(c->err, sizeof(c->err), "%s: %s", c->o.status,
			 n == -EFBIG ? "larger than 4 MiB" : strerror((int)-n));
		return (int)n;
	}
	*ret_len = (size_t)n;
	return 0;
}

/* ---- logging ---- */

/* The event to the sink, and as a JSON line on stdout with --json. */
static void emit(struct ctx *c, struct fg_event *ev)
{
	size_t n;

	clock_gettime(CLOCK_REALTIME, &ev->when);
	if (c->have_lg)
		fg_logger_event(&c->lg, ev);
	if (!c->o.json)
		return;
	ev->sequence = ++c->seq;
	n = fg_log_format(&c->lhost, ev, FG_FMT_JSON, c->cfg.max_line, c->line);
	fwrite(c->line, 1, n, stdout);
	ev->sequence = 0;
}

static void emit_finding(struct ctx *c, const struct fg_finding *f)
{
	struct fg_event ev = {.action = f->action,
			      .outcome = "success",
			      .decision = f->alert ? "detected" : NULL,
			      .reason = f->reason,
			      .message = f->message,
			      .finding = f};

	emit(c, &ev);
}

/* deployment-status: bootc's status as it stands, every run. */
static void emit_status(struct ctx *c, const char *failure)
{
	struct fg_finding f = {.action = "deployment-status", .slot = "booted"};
	unsigned alerts = 0, held = 0;
	struct fg_event ev = {.action = "deployment-status",
			      .outcome = failure ? "failure" : "success",
			      .message = failure ? failure : f.message};

	for (unsigned i = 0; i < c->n; i++) {
		alerts += c->findings[i].fired && c->findings[i].alert;
		held += !c->findings[i].fired;
	}
	if (!failure) {
		f.dep = c->next.slot[FG_SLOT_BOOTED];
		snprintf(f.message, sizeof(f.message),
			 "%s; %u finding(s) new (%u alert(s)), %u still holding%s",
			 f.dep.present ? "booted deployment recorded" : "no booted deployment",
			 c->n - held, alerts, held, c->prev.present ? "" : "; baseline recorded");
		ev.finding = &f;
	}
	emit(c, &ev);
}

static void open_sink(struct ctx *c)
{
	fg_loghost_read(&c->lhost);
	/* The same lines on stderr and stdout would only say it twice. */
	if (!c->have_cfg || (c->cfg.log == FG_SINK_STDERR && c->o.json))
		return;
	c->have_lg = fg_logger_open(&c->lg, &c->cfg) == 0;
	if (!c->have_lg)
		fprintf(stderr, "fanguard: the log sink could not be opened: findings go to "
				"standard output only\n");
}

/* ---- the human report ---- */

static void print_slot(const char *name, const struct fg_deploy_mem *m)
{
	if (!m->present) {
		printf("%-9s (none)\n", name);
		return;
	}
	printf("%-9s %s %s%s%s\n", name, m->image, m->digest, m->version[0] ? " version " : "",
	       m->version);
}

static void report(const struct ctx *c)
{
	unsigned fired = 0;

	for (unsigned s = 0; s < FG_SLOT_N; s++)
		print_slot(fg_bootc_slot_name(s), &c->next.slot[s]);
	if (!c->prev.present)
		printf("first run: baseline recorded\n");
	for (unsigned i = 0; i < c->n; i++) {
		const struct fg_finding *f = &c->findings[i];

		fired += f->fired;
		printf("%s %-7s %s: %s%s%s\n", f->fired ? "NEW" : "   ",
		       f->alert ? "ALERT" : "info", f->action, f->message,
		       f->ticket[0] ? "; ticket " : "", f->ticket);
	}
	printf("%u finding(s), %u new\n", c->n, fired);
}

/* ---- the run ---- */

static int load_config(struct ctx *c)
{
	_cleanup_free_ struct fg_diag *diag = calloc(1, sizeof(*diag));
	const struct fg_deployments_cfg *d;

	if (!diag)
		return FG_DEPLOY_EXIT_CONFIG;
	if (fg_config_load(&c->cfg, c->o.config, diag) < 0) {
		for (unsigned i = 0; i < diag->n; i++)
			fprintf(stderr, "%s\n", diag->msg[i]);
		fprintf(stderr, "fanguard: configuration is invalid\n");
		return FG_DEPLOY_EXIT_CONFIG;
	}
	c->have_cfg = true;
	d = &c->cfg.deployments;
	if (d->approved &&
	    fg_approved_load(d->approved, &c->approved, c->err, sizeof(c->err)) < 0) {
		fprintf(stderr, "%s\nfanguard: [deployments] approved cannot be used\n", c->err);
		return FG_DEPLOY_EXIT_CONFIG;
	}
	return 0;
}

/* policy.json judged for the spec image, when bootc defers to it. */
static void judge_signature_policy(struct ctx *c)
{
	const struct fg_deployments_cfg *d = &c->cfg.deployments;
	const struct fg_bootc_ref *spec = &c->host.spec_image;
	const char *images[1] = {spec->image};
	struct fg_sigpolicy_cfg sc = {.images = images, .n_images = 1};

	if (!d->require_signature || !spec->present || strcmp(spec->transport, "registry") ||
	    spec->sig == FG_BOOTC_SIG_INSECURE || spec->sig == FG_BOOTC_SIG_OSTREE_REMOTE)
		return;
	c->have_sig = fg_sigpolicy_eval_file(d->signature_policy ? d->signature_policy
								 : FG_SIGPOLICY_PATH_DEFAULT,
					     &sc, &c->sig) == 0;
}

static int status_and_state(struct ctx *c)
{
	_cleanup_free_ char *buf = malloc(FG_BOOTC_MAX_BYTES + 1);
	const char *state = c->o.state ? c->o.state : FG_DEPLOY_STATE_DEFAULT;
	size_t len = 0;
	int r;

	if (!buf)
		return FG_DEPLOY_EXIT_STATUS;
	if (read_status(c, buf, FG_BOOTC_MAX_BYTES + 1, &len) < 0 ||
	    fg_bootc_parse(buf, len, &c->host, c->err, sizeof(c->err)) < 0) {
		fprintf(stderr, "fanguard: bootc status unreadable: %s\n", c->err);
		emit_status(c, c->err);
		return FG_DEPLOY_EXIT_STATUS;
	}
	r = fg_deploy_state_load(state, &c->prev, c->err, sizeof(c->err));
	if (r < 0 && r != -ENOENT) {
		fprintf(stderr, "fanguard: %s\nfanguard: remove it to record a new baseline\n",
			c->err);
		return FG_DEPLOY_EXIT_CONFIG;
	}
	return 0;
}

static int run(struct ctx *c)
{
	const char *state = c->o.state ? c->o.state : FG_DEPLOY_STATE_DEFAULT;
	const struct fg_deployments_cfg *d = &c->cfg.deployments;
	struct fg_deploy_input in = {.cfg = d,
				     .approved = d->approved ? &c->approved : NULL,
				     .sig_path = d->signature_policy ? d->signature_policy
								     : FG_SIGPOLICY_PATH_DEFAULT};
	bool alert = false;
	int r;

	r = status_and_state(c);
	if (r)
		return r;
	judge_signature_policy(c);
	in.sig = c->have_sig ? &c->sig : NULL;
	if (fg_deploy_compare(&c->host, &in, &c->prev, &c->next, c->findings,
			      FG_ARRAY_SIZE(c->findings), &c->n) < 0)
		fprintf(stderr, "fanguard: more than %d findings: the rest are left out\n",
			FG_FINDINGS_MAX);
	for (unsigned i = 0; i < c->n; i++) {
		if (!c->findings[i].fired)
			continue;
		emit_finding(c, &c->findings[i]);
		alert |= c->findings[i].alert;
	}
	emit_status(c, NULL);
	if (!c->o.json)
		report(c);
	r = fg_deploy_state_save(state, &c->next);
	if (r < 0) {
		fprintf(stderr, "fanguard: %s: cannot save the state: %s\n", state, strerror(-r));
		return FG_DEPLOY_EXIT_STATE;
	}
	return alert ? FG_DEPLOY_EXIT_ALERT : 0;
}

int fg_deployments_cli(int argc, char **argv)
{
	_cleanup_free_ struct ctx *c = calloc(1, sizeof(*c));
	int r;

	if (!c)
		return FG_DEPLOY_EXIT_STATUS;
	if (parse_opts(argc, argv, &c->o) < 0) {
		fprintf(stderr, "usage: fanguard deployments [--config FILE] [--status FILE|-] "
				"[--state FILE] [--json]\n");
		return 2;
	}
	r = load_config(c);
	if (r == 0) {
		open_sink(c);
		r = run(c);
	}
	fflush(stdout);
	if (c->have_lg)
		fg_logger_close(&c->lg);
	fg_approved_free(&c->approved);
	if (c->have_cfg)
		fg_config_free(&c->cfg);
	return r;
}
