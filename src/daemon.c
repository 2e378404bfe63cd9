#include "fanguard/daemon.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "fanguard/fan.h"
#include "fanguard/guard.h"
#include "fanguard/log.h"
#include "fanguard/policy.h"
#include "fanguard/state.h"
#include "fanguard/util.h"

enum { PFD_PERM, PFD_NOTIF, PFD_SIGNAL, PFD_TX0, PFD_N = PFD_TX0 + FG_TX_MAX };

struct daemon {
	const struct fg_daemon_opts *opts;
	struct fg_policy *pol;
	struct fg_fan *fan;
	struct fg_logger log;
	struct fg_state state;
	struct fg_guard guard;
	int sigfd;
	uint64_t generation;
};

static void print_diag(const struct fg_diag *diag)
{
	for (unsigned i = 0; i < diag->n; i++)
		fprintf(stderr, "%s\n", diag->msg[i]);
	if (diag->dropped)
		fprintf(stderr, "(%u more errors)\n", diag->dropped);
}

/* Loads and compiles the policy. Returns it, or NULL with diag filled. */
static struct fg_policy *load_policy(const struct fg_daemon_opts *o, struct fg_diag *diag)
{
	struct fg_config cfg;
	struct fg_policy *pol;

	if (fg_config_load(&cfg, o->config, diag) < 0)
		return NULL;
	if (o->mode != FG_MODE_INHERIT)
		cfg.mode = o->mode;
	pol = calloc(1, sizeof(*pol));
	if (!pol || fg_policy_compile(pol, &cfg) < 0) {
		fg_diag_add(diag, "out of memory compiling the policy");
		fg_config_free(&cfg);
		free(pol);
		return NULL;
	}
	return pol;
}

static void free_policy(struct fg_policy *pol)
{
	if (pol)
		fg_policy_free(pol);
	free(pol);
}

/* New groups with the marks of pol, or NULL (errno-style code in *ret_err). */
static struct fg_fan *place_marks(const struct fg_policy *pol, int *ret_err)
{
	struct fg_fan *fan = calloc(1, sizeof(*fan));
	int r;

	if (!fan) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	r = fg_fan_open(fan);
	if (r < 0) {
		*ret_err = r;
		free(fan);
		return NULL;
	}
	r = fg_fan_mark_all(fan, &pol->cfg);
	if (r < 0 && fan->marks == 0 && pol->cfg.n_subtrees > 0) {
		/* Not one mark could be placed: a config we cannot enforce. */
		*ret_err = r;
		fg_fan_close(fan);
		free(fan);
		return NULL;
	}
	*ret_err = r;
	return fan;
}

static void free_fan(struct fg_fan *fan)
{
	if (fan)
		fg_fan_close(fan);
	free(fan);
}

static void describe(const struct daemon *d, char *buf, size_t size)
{
	const struct fg_config *cfg = &d->pol->cfg;
	size_t len = 0;

	len += (size_t)snprintf(buf, size, "generation %llu, %u subtrees, %u writer rules, %llu marks:",
				(unsigned long long)d->generation, cfg->n_subtrees, cfg->n_writers,
				(unsigned long long)d->fan->marks);
	for (unsigned i = 0; i < cfg->n_subtrees && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, " %s=%s%s", cfg->subtrees[i].name,
					cfg->subtrees[i].path, d->fan->st[i].exists ? "" : "(missing)");
}

/* SIGHUP: a new policy and new marks replace the old ones only when both
 * are good. The new group is marked before the old one is closed, so no
 * open goes unguarded in between. */
static void reload(struct daemon *d)
{
	struct fg_diag *diag = calloc(1, sizeof(*diag));
	struct fg_policy *pol = diag ? load_policy(d->opts, diag) : NULL;
	struct fg_fan *fan = NULL, *old_fan;
	char msg[1024];
	int err = 0;

	if (pol)
		fan = place_marks(pol, &err);
	if (!pol || !fan) {
		snprintf(msg, sizeof(msg), "reload refused, generation %llu kept: %s",
			 (unsigned long long)d->generation,
			 !diag ? "out of memory" : diag->n ? diag->msg[0] : strerror(-err));
		fg_guard_log_daemon(&d->guard, "reload", "failure", msg);
		free_policy(pol);
		free(diag);
		return;
	}
	free(diag);
	old_fan = d->fan;
	d->guard.fan = fan;
	d->guard.pol = pol;
	fg_guard_perm(&d->guard); /* answer what waits on the old group */
	free_fan(old_fan);
	free_policy(d->pol);
	d->pol = pol;
	d->fan = fan;
	pol->generation = ++d->generation;
	fg_state_rules(&d->state, pol->cfg.n_writers);
	describe(d, msg, sizeof(msg));
	fg_guard_log_daemon(&d->guard, "reload", "success", msg);
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGPIPE);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -errno;
	sigdelset(&set, SIGPIPE);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	return d->sigfd < 0 ? -errno : 0;
}

/* Returns 1 to stop, 0 to go on. */
static int on_signal(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
		if (si.ssi_signo == SIGHUP)
			reload(d);
		else
			return 1;
	}
	return 0;
}

static unsigned fill_pollfds(const struct daemon *d, struct pollfd *p)
{
	memset(p, 0, sizeof(*p) * PFD_N);
	p[PFD_PERM] = (struct pollfd){.fd = d->fan->perm_fd, .events = POLLIN};
	p[PFD_NOTIF] = (struct pollfd){.fd = d->fan->notif_fd, .events = POLLIN};
	p[PFD_SIGNAL] = (struct pollfd){.fd = d->sigfd, .events = POLLIN};
	for (unsigned i = 0; i < FG_TX_MAX; i++)
		p[PFD_TX0 + i] = (struct pollfd){
			.fd = d->state.tx[i].pid ? d->state.tx[i].pidfd : -1, .events = POLLIN};
	return PFD_N;
}

static int loop(struct daemon *d)
{
	struct pollfd p[PFD_N];

	for (;;) {
		unsigned n = fill_pollfds(d, p);
		int r;

		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			return FG_EXIT_SOFTWARE;
		}
		/* Permission events first: an opener is waiting on each. */
		if (p[PFD_PERM].revents && fg_guard_perm(&d->guard) < 0)
			return FG_EXIT_SOFTWARE;
		if (p[PFD_NOTIF].revents && fg_guard_notif(&d->guard) < 0)
			return FG_EXIT_SOFTWARE;
		for (unsigned i = 0; i < FG_TX_MAX; i++)
			if (p[PFD_TX0 + i].revents)
				fg_guard_tx_end(&d->guard, i);
		if (p[PFD_SIGNAL].revents) {
			r = on_signal(d);
			if (r)
				return FG_EXIT_OK;
		}
	}
}

static int start(struct daemon *d, struct fg_diag *diag)
{
	int err = 0;

	d->pol = load_policy(d->opts, diag);
	if (!d->pol) {
		print_diag(diag);
		return FG_EXIT_CONFIG;
	}
	err = fg_logger_open(&d->log, &d->pol->cfg);
	if (err < 0) {
		fprintf(stderr, "fanguardd: cannot open log sink: %s\n", strerror(-err));
		return FG_EXIT_OSERR;
	}
	if (fg_state_init(&d->state, d->pol->cfg.n_writers) < 0 || setup_signals(d) < 0)
		return FG_EXIT_OSERR;
	d->fan = place_marks(d->pol, &err);
	if (!d->fan) {
		fprintf(stderr, "fanguardd: cannot guard: %s\n", strerror(-err));
		return err == -EPERM ? FG_EXIT_NOPERM : FG_EXIT_OSERR;
	}
	if (fg_guard_init(&d->guard, d->pol, d->fan, &d->log, &d->state) < 0)
		return FG_EXIT_OSERR;
	fg_guard_add_self(&d->guard, d->log.tid);
	d->pol->generation = d->generation = 1;
	return FG_EXIT_OK;
}

static void stop(struct daemon *d)
{
	/* The permission group goes first: the kernel then lets every
	 * pending opener through instead of leaving it blocked on us. */
	if (d->fan) {
		if (d->guard.proc)
			fg_guard_perm(&d->guard);
		free_fan(d->fan);
		d->fan = NULL;
	}
	if (d->guard.proc)
		fg_guard_log_daemon(&d->guard, "daemon-stop", "success", "fanguardd stopped");
	fg_guard_free(&d->guard);
	if (d->log.started)
		fg_logger_close(&d->log);
	fg_state_free(&d->state);
	free_policy(d->pol);
	if (d->sigfd >= 0)
		close(d->sigfd);
}

int fg_daemon_run(const struct fg_daemon_opts *o)
{
	struct daemon d = {.opts = o, .sigfd = -1};
	struct fg_diag *diag = calloc(1, sizeof(*diag));
	char msg[2048];
	int rc;

	if (!diag)
		return FG_EXIT_OSERR;
	if (!o->foreground && daemon(0, 0) < 0) {
		free(diag);
		return FG_EXIT_OSERR;
	}
	rc = start(&d, diag);
	free(diag);
	if (rc == FG_EXIT_OK) {
		describe(&d, msg, sizeof(msg));
		fg_guard_log_daemon(&d.guard, "daemon-start", "success", msg);
		rc = loop(&d);
	}
	stop(&d);
	return rc;
}
