#include "fanguard/daemon.h"

#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef FG_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "fanguard/explainsrv.h"
#include "fanguard/fan.h"
#include "fanguard/guard.h"
#include "fanguard/harden.h"
#include "fanguard/hold.h"
#include "fanguard/ident.h"
#include "fanguard/log.h"
#include "fanguard/policy.h"
#include "fanguard/state.h"
#include "fanguard/status.h"
#include "fanguard/twins.h"
#include "fanguard/util.h"

/* The main thread's poll set; the event threads have their own (guard.h). */
enum {
	PFD_SIGNAL,
	PFD_WAKE, /* a transaction began: poll its pidfd */
	PFD_TX0,
	PFD_RUN0 = PFD_TX0 + FG_TX_MAX,
	PFD_STATUS = PFD_RUN0 + FG_RUN_MAX, /* listener, then one per client */
	PFD_N = PFD_STATUS + 1 + FG_STATUS_CLIENTS_MAX,
};

#define NOTIFY_STATUS_NS (10 * 1000000000ULL) /* STATUS= this often */
#define SELFTEST_NS	 (5 * 1000000000ULL)  /* the probe's open must arrive by then */
#define STALL_NS	 (5 * 1000000000ULL)  /* no WATCHDOG=1 once the answering
					       * thread has not looped for this long */

struct daemon {
	const struct fg_daemon_opts *opts;
	struct fg_policy *pol;
	struct fg_fan *fan;
	struct fg_logger log;
	struct fg_state state;
	struct fg_guard guard;
	struct fg_pcache pcache;
	struct fg_hold hold; /* on_daemon_exit = hold: the fd store, the journal */
	int sigfd;
	bool ends_waiting; /* an exited root's summary waits (fg_tx_settle) */
	uint64_t generation;
	int harden_err; /* capabilities, then seccomp: 0 or the first -errno */
	int loginuid_immutable; /* asked at start: 1, 0, -errno */
	struct fg_status_server srv;
	int selftest;	      /* 1 passed, -1 failed, 0 not run */
	/* What a heartbeat reports, copied here because the logger thread
	 * reads it without a lock and a reload frees pol and fan. */
	bool hb_audit;
	uint64_t hb_marks;
	bool notify;	      /* started by systemd with NOTIFY_SOCKET */
	uint64_t watchdog_ns; /* WATCHDOG=1 this often; 0: no watchdog */
	uint64_t next_status_ns, next_watchdog_ns;
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
	/* every deployment's etc gets twins of the running etc's subtrees */
	if (fg_twins_expand(&cfg) < 0) {
		fg_diag_add(diag, "out of memory finding the deployments");
		fg_config_free(&cfg);
		return NULL;
	}
	if (o->mode != FG_MODE_INHERIT)
		cfg.mode = o->mode;
	pol = calloc(1, sizeof(*pol));
	if (!pol || fg_policy_compile(pol, &cfg) < 0) {
		fg_diag_add(diag, "out of memory compiling the policy");
		fg_config_free(&cfg);
		free(pol);
		return NULL;
	}
	/* Paths may be opened here (the main thread is self): the trusted
	 * prefixes' filesystems, the transaction exes' content digests. */
	(void)fg_ident_prepare(pol);
	return pol;
}

static void free_policy(struct fg_policy *pol)
{
	if (pol)
		fg_policy_free(pol);
	free(pol);
}

/* New groups with the marks of pol, or NULL (errno-style code in *ret_err).
 * In hold mode the permission group goes to the fd store before its first
 * mark, so no mark of ours ever lies on a group only we hold. */
static struct fg_fan *place_marks(const struct fg_policy *pol, struct fg_hold *hold, int *ret_err)
{
	struct fg_fan *fan = calloc(1, sizeof(*fan));
	int r;

	if (!fan) {
		*ret_err = -ENOMEM;
		return NULL;
	}
	r = fg_fan_open(fan, pol->cfg.audit_records != FG_AUDITREC_NO);
	if (r < 0) {
		*ret_err = r;
		free(fan);
		return NULL;
	}
	(void)fg_hold_store(hold, fan->perm_fd); /* a failure shows in status */
	r = fg_fan_mark_all(fan, &pol->cfg);
	if (r < 0 && fan->marks == 0 && pol->cfg.n_subtrees > 0) {
		/* Not one mark could be placed: a config we cannot enforce. */
		*ret_err = r;
		fg_hold_unstore(hold);
		fg_fan_close(fan);
		free(fan);
		return NULL;
	}
	fg_hold_complete(hold);
	*ret_err = r;
	return fan;
}

static void free_fan(struct fg_fan *fan)
{
	if (fan)
		fg_fan_close(fan);
	free(fan);
}

/* The heartbeat's source (fg_heartbeat_fn), on the logger thread. */
static void heartbeat_fill(void *ctx, struct fg_heartbeat *ret)
{
	const struct daemon *d = ctx;

	ret->mode = __atomic_load_n(&d->hb_audit, __ATOMIC_RELAXED) ? "audit" : "enforce";
	ret->generation = __atomic_load_n(&d->generation, __ATOMIC_RELAXED);
	ret->marks = __atomic_load_n(&d->hb_marks, __ATOMIC_RELAXED);
	ret->c = d->state.c;
	ret->have_counters = true;
	ret->sigpolicy = fg_sigwatch_verdict(d->guard.sigwatch);
}

static void heartbeat_update(struct daemon *d)
{
	__atomic_store_n(&d->hb_audit, d->pol->cfg.mode == FG_MODE_AUDIT, __ATOMIC_RELAXED);
	__atomic_store_n(&d->hb_marks, d->fan->marks, __ATOMIC_RELAXED);
}

static void describe(const struct daemon *d, char *buf, size_t size)
{
	const struct fg_config *cfg = &d->pol->cfg;
	size_t len = 0;

	len += (size_t)snprintf(buf, size,
				"generation %llu, %u subtrees, %u writer rules, %llu marks:",
				(unsigned long long)d->generation, cfg->n_subtrees, cfg->n_writers,
				(unsigned long long)d->fan->marks);
	/* before the list, which a long one cuts */
	if (fg_twins_unguarded(cfg) && len < size)
		len += (size_t)snprintf(buf + len, size - len,
					" %u deployment root(s) or twin subtree(s) NOT guarded: no "
					"room (more than %u roots, or %u twins);",
					fg_twins_unguarded(cfg), (unsigned)FG_TWINS_FOUND,
					(unsigned)FG_TWINS_MAX);
	for (unsigned i = 0; i < cfg->n_subtrees && len < size; i++)
		len += (size_t)snprintf(
		    buf + len, size - len, " %s=%s%s", cfg->subtrees[i].name, cfg->subtrees[i].path,
		    d->fan->st[i].error == -ELOOP ? "(path goes through a symlink: NOT guarded)"
		    : d->fan->st[i].error	  ? "(marking failed: NOT guarded)"
		    : d->fan->st[i].exists	  ? ""
						  : "(missing)");
}

static void refuse(struct daemon *d, const char *why)
{
	char msg[1024];

	snprintf(msg, sizeof(msg), "reload refused, generation %llu kept: %s",
		 (unsigned long long)d->generation, why);
	fg_guard_log_daemon(&d->guard, "reload", "failure", msg);
}

/* New groups for pol, read by the answering thread from before the first
 * mark, so that no opener waits on a group nobody reads. NULL with
 * *ret_err when not one mark could be placed. */
static struct fg_fan *attach_marks(struct daemon *d, const struct fg_policy *pol, int *ret_err)
{
	struct fg_fan *fan = calloc(1, sizeof(*fan));
	int r = fan ? fg_fan_open(fan, pol->cfg.audit_records != FG_AUDITREC_NO) : -ENOMEM;

	if (r < 0) {
		free(fan);
		*ret_err = r;
		return NULL;
	}
	(void)fg_hold_store(&d->hold, fan->perm_fd);
	fg_guard_attach(&d->guard, fan);
	r = fg_fan_mark_all(fan, &pol->cfg);
	if (r < 0 && fan->marks == 0 && pol->cfg.n_subtrees > 0) {
		fg_guard_detach(&d->guard, fan);
		fg_hold_unstore(&d->hold);
		free_fan(fan);
		*ret_err = r;
		return NULL;
	}
	*ret_err = 0;
	return fan;
}

/* SIGHUP or "reload" on the socket, on the main thread: the config is read
 * and compiled here, never on the answering thread, which keeps answering
 * our own opens of it (a drop-in in /etc/fanguard is inside a guarded
 * subtree). The new generation replaces the old one only when it is good;
 * both groups are marked for a moment, so no open goes unguarded, and the
 * old one is drained before it closes. Returns 0, or -errno with the first
 * reason in why. */
static int reload(struct daemon *d, char *why, size_t size)
{
	struct fg_diag *diag = calloc(1, sizeof(*diag));
	struct fg_policy *pol = diag ? load_policy(d->opts, diag) : NULL, *old_pol = d->pol;
	struct fg_fan *fan = NULL, *old_fan = d->fan;
	char msg[1024];
	int err = 0;

	if (pol && fg_hold_refuses(&d->hold, &pol->cfg, diag)) {
		err = -EDEADLK;
		free_policy(pol);
		pol = NULL;
	}
	if (pol)
		fan = attach_marks(d, pol, &err);
	if (!pol || !fan) {
		snprintf(why, size, "%s", !diag ? "out of memory" : diag->n ? diag->msg[0] : strerror(-err));
		refuse(d, why);
		free_policy(pol);
		free(diag);
		return err < 0 ? err : -EINVAL;
	}
	free(diag);
	pol->generation = d->generation + 1;
	fg_guard_adopt(&d->guard, pol, fan);
	fg_hold_complete(&d->hold);
	fg_guard_wait_retired(&d->guard);
	fg_hold_retired(&d->hold);
	old_fan->perm_fd = -1; /* closed by the answering thread */
	d->pol = pol;
	d->fan = fan;
	__atomic_store_n(&d->generation, d->generation + 1, __ATOMIC_RELAXED);
	heartbeat_update(d);
	free_fan(old_fan);
	free_policy(old_pol);
	describe(d, msg, sizeof(msg));
	if ((pol->cfg.on_daemon_exit == FG_ONEXIT_HOLD) != d->hold.asked)
		snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg),
			 "; on_daemon_exit changes at the next start, not on reload");
	fg_guard_log_daemon(&d->guard, "reload", "success", msg);
	snprintf(why, size, "generation %llu", (unsigned long long)d->generation);
	return 0;
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
		char why[FG_DIAG_LEN];

		if (si.ssi_signo == SIGHUP)
			reload(d, why, sizeof(why));
		else
			return 1;
	}
	return 0;
}

static unsigned fill_pollfds(struct daemon *d, struct pollfd *p)
{
	memset(p, 0, sizeof(*p) * PFD_N);
	p[PFD_SIGNAL] = (struct pollfd){.fd = d->sigfd, .events = POLLIN};
	p[PFD_WAKE] = (struct pollfd){.fd = d->guard.main_wake, .events = POLLIN};
	for (unsigned i = 0; i < FG_TX_MAX; i++)
		p[PFD_TX0 + i] = (struct pollfd){.fd = fg_tx_pidfd(&d->guard, i),
						 .events = POLLIN};
	for (unsigned i = 0; i < FG_RUN_MAX; i++)
		p[PFD_RUN0 + i] = (struct pollfd){.fd = fg_run_pidfd(&d->guard, i),
						  .events = POLLIN};
	if (d->srv.fd >= 0)
		fg_status_pollfds(&d->srv, p + PFD_STATUS);
	else
		for (unsigned i = PFD_STATUS; i < PFD_N; i++)
			p[i].fd = -1;
	return PFD_N;
}

/* What `fanguard status` says of kernel audit records. */
static const char *audit_state(const struct daemon *d)
{
	if (d->pol->cfg.audit_records == FG_AUDITREC_NO)
		return "off";
	if (!d->fan->audit)
		return d->fan->audit_err == -EPERM ? "UNAVAILABLE (no CAP_AUDIT_WRITE)"
						   : "UNAVAILABLE (kernel refused)";
	return d->fan->audit_rule ? "on" : "on, without rule numbers";
}

static void snapshot(struct daemon *d, struct fg_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->pid = getpid();
	s->version = FG_VERSION;
	s->started = d->state.started;
	s->now_mono_ns = fg_now_ns();
	s->uptime_ns = s->now_mono_ns - d->state.started_mono_ns;
	s->generation = d->generation;
	s->cfg = &d->pol->cfg;
	s->st = d->fan->st;
	s->marks = d->fan->marks;
	s->fan_mark_errors = d->fan->mark_errors;
	s->state = &d->state;
	s->selftest = d->selftest;
	s->pc = &d->pcache;
	s->audit_records = audit_state(d);
	s->loginuid_immutable = d->loginuid_immutable > 0	 ? "on"
				: d->loginuid_immutable == 0 ? "off"
							     : "unknown";
	if (d->guard.digests) {
		pthread_mutex_lock(&d->guard.digests->lock);
		s->digests_hashed = d->guard.digests->hashed;
		s->digests_failed = d->guard.digests->failed;
		pthread_mutex_unlock(&d->guard.digests->lock);
	}
	s->on_daemon_exit = d->hold.asked ? "hold" : "release";
	s->fd_store = fg_hold_state(&d->hold);
	s->takeovers = fg_hold_takeovers(&d->hold);
	s->sigpolicy = fg_sigwatch_verdict(d->guard.sigwatch);
	s->instance = d->log.host.instance;
	fg_logger_stats(&d->log, &s->log_written, &s->log_dropped, &s->log_errors);
}

static size_t clamp(int n, size_t cap)
{
	return n < 0 ? 0 : (size_t)n >= cap ? cap - 1 : (size_t)n;
}

/* The reply to one socket request (fg_status_answer_fn). */
static size_t answer(void *ctx, enum fg_status_req req, char *args, char *buf, size_t cap)
{
	struct daemon *d = ctx;
	struct fg_snapshot s;
	struct fg_config cfg;
	struct fg_fan_check *chk;
	char why[FG_DIAG_LEN];
	size_t n;

	/* The policy the daemon runs: reloads happen on this thread too. */
	if (req == FG_REQ_EXPLAIN)
		return fg_explainsrv_explain(d->pol, args, buf, cap);
	if (req == FG_REQ_LAST)
		return fg_explainsrv_last(&d->state, &d->guard.lock, d->log.host.instance, args,
					  buf, cap);
	if (req == FG_REQ_RELOAD) {
		int r = reload(d, why, sizeof(why));
		return clamp(snprintf(buf, cap,
				      r == 0 ? "OK reloaded %s\n" : "ERR reload refused: %s\n",
				      why),
			     cap);
	}
	/* Each subtree's state from a fresh look at the paths and at the
	 * kernel's marks, taken before the lock (it walks directories). */
	/* The notification thread may add twins meanwhile (twins.h): the
	 * count is taken once, and what it covers does not move. */
	cfg = d->pol->cfg;
	cfg.n_subtrees = __atomic_load_n(&d->pol->cfg.n_subtrees, __ATOMIC_ACQUIRE);
	chk = calloc(cfg.n_subtrees + 1, sizeof(*chk));
	if (chk)
		fg_fan_check(d->fan, &cfg, chk);
	/* The lock holds the rings and tables still while they are read. */
	pthread_mutex_lock(&d->guard.lock);
	snapshot(d, &s);
	s.cfg = &cfg;
	s.check = chk;
	n = clamp(snprintf(buf, cap, "OK %s\n", fg_status_word_name(fg_status_word(&s))), cap);
	if (req == FG_REQ_STATUS_TEXT) {
		n += fg_status_render_text(&s, buf + n, cap - n);
	} else {
		n += fg_status_render_json(&s, buf + n, cap - n - 1);
		buf[n++] = '\n';
		buf[n] = '\0';
	}
	pthread_mutex_unlock(&d->guard.lock);
	free(chk);
	return n;
}

/* sd_notify when systemd asked for it; a no-op without libsystemd. */
__attribute__((format(printf, 2, 3))) static void notify(const struct daemon *d, const char *fmt,
							 ...)
{
#ifdef FG_HAVE_SYSTEMD
	char msg[512];
	va_list ap;

	if (!d->notify)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	sd_notify(0, msg);
#else
	(void)d;
	(void)fmt;
#endif
}

static void notify_status(const struct daemon *d)
{
	const struct fg_counters *c = &d->state.c;

	notify(d,
	       "STATUS=%s, generation %llu: %llu denied, %llu would-deny, %llu writes allowed, "
	       "%llu reads",
	       d->pol->cfg.mode == FG_MODE_AUDIT ? "audit" : "enforcing",
	       (unsigned long long)d->generation, (unsigned long long)c->denied,
	       (unsigned long long)c->would_deny,
	       (unsigned long long)(c->write_allowed_rule + c->write_allowed_tx),
	       (unsigned long long)c->read_allowed);
}

/* Called on every pass of the loop, so WATCHDOG=1 stops when the loop
 * stops. Returns the poll timeout until the next periodic message. */
static int periodic(struct daemon *d, uint64_t now)
{
	uint64_t next;

	if (!d->notify)
		return -1;
	if (now >= d->next_status_ns) {
		notify_status(d);
		d->next_status_ns = now + NOTIFY_STATUS_NS;
	}
	next = d->next_status_ns;
	if (d->watchdog_ns) {
		uint64_t beat = __atomic_load_n(&d->guard.perm.beat_ns, __ATOMIC_RELAXED);
		/* The answering thread is what must make progress. */
		if (now >= d->next_watchdog_ns && now - beat < STALL_NS) {
			notify(d, "WATCHDOG=1");
			d->next_watchdog_ns = now + d->watchdog_ns;
		}
		if (d->next_watchdog_ns < next)
			next = d->next_watchdog_ns;
	}
	return (int)((next - now) / 1000000ULL + 1);
}

static int poll_timeout(struct daemon *d)
{
	uint64_t now = fg_now_ns();
	int a = periodic(d, now);
	int b = d->srv.fd >= 0 ? fg_status_timeout_ms(&d->srv, now) : -1;
	int t = a < 0 || (b >= 0 && b < a) ? b : a;

	/* an exited root's summary waits for the answering thread's current
	 * write-open, a matter of microseconds */
	return d->ends_waiting && (t < 0 || t > 1) ? 1 : t;
}

static int loop(struct daemon *d)
{
	struct pollfd p[PFD_N];

	for (;;) {
		unsigned n = fill_pollfds(d, p);
		int r;

		if (poll(p, n, poll_timeout(d)) < 0) {
			if (errno == EINTR)
				continue;
			return FG_EXIT_SOFTWARE;
		}
		if (p[PFD_WAKE].revents) {
			uint64_t v;
			(void)!read(d->guard.main_wake, &v, sizeof(v));
		}
		for (unsigned i = 0; i < FG_TX_MAX; i++)
			if (p[PFD_TX0 + i].revents)
				fg_tx_exited(&d->guard, i);
		for (unsigned i = 0; i < FG_RUN_MAX; i++)
			if (p[PFD_RUN0 + i].revents)
				fg_run_exited(&d->guard, i);
		d->ends_waiting = fg_tx_settle(&d->guard);
		if (p[PFD_SIGNAL].revents) {
			r = on_signal(d);
			if (r)
				return FG_EXIT_OK;
		}
		if (d->srv.fd >= 0)
			fg_status_dispatch(&d->srv, p + PFD_STATUS, fg_now_ns(), answer, d);
	}
}

/* ---- the self-test: one permission event through the real group ---- */

struct probe {
	char dir[PATH_MAX];
	char file[PATH_MAX + 8];
	bool marked;
};

static int probe_setup(const struct daemon *d, struct probe *pr)
{
	_cleanup_close_ int fd = -1;
	char *slash;

	/* Next to the status socket: a directory of ours, on a filesystem
	 * that is mounted, writable and outside every subtree. */
	fg_strlcpy(pr->dir, d->pol->cfg.status_socket, sizeof(pr->dir));
	slash = strrchr(pr->dir, '/');
	if (!slash || slash == pr->dir)
		fg_strlcpy(pr->dir, "/run", sizeof(pr->dir));
	else
		*slash = '\0';
	if (strlen(pr->dir) + sizeof("/selftest.XXXXXX") > sizeof(pr->dir))
		return -ENAMETOOLONG;
	strcat(pr->dir, "/selftest.XXXXXX");
	if (!mkdtemp(pr->dir)) {
		pr->dir[0] = '\0';
		return -errno;
	}
	snprintf(pr->file, sizeof(pr->file), "%s/probe", pr->dir);
	fd = open(pr->file, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fanotify_mark(d->fan->perm_fd, FAN_MARK_ADD, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD,
			  AT_FDCWD, pr->dir) < 0)
		return -errno;
	pr->marked = true;
	return 0;
}

static void probe_cleanup(const struct daemon *d, struct probe *pr)
{
	if (pr->marked)
		fanotify_mark(d->fan->perm_fd, FAN_MARK_REMOVE, FAN_OPEN_PERM | FAN_EVENT_ON_CHILD,
			      AT_FDCWD, pr->dir);
	if (pr->dir[0]) {
		unlink(pr->file);
		rmdir(pr->dir);
	}
}

/* Waits for the child to exit (its open answered by the answering thread)
 * or the deadline to pass. Returns the child's wait status, or -ETIMEDOUT. */
static int probe_wait(pid_t child)
{
	uint64_t deadline = fg_now_ns() + SELFTEST_NS;
	int status;

	while (fg_now_ns() < deadline) {
		if (waitpid(child, &status, WNOHANG) == child)
			return status;
		usleep(10000);
	}
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return -ETIMEDOUT;
}

/* A forked child (not our pid, so not allowed at once) opens a file under
 * a fresh mark of the permission group for reading. Passing means the
 * kernel delivered the event and the guard answered it. The probe's open
 * is not one of the host's, so it is taken back out of the counters. */
static int selftest(struct daemon *d)
{
	struct fg_counters before = d->state.c, *c = &d->state.c;
	struct probe pr = {0};
	pid_t child;
	int r = probe_setup(d, &pr), status;

	if (r < 0) {
		probe_cleanup(d, &pr);
		return r;
	}
	child = fork();
	if (child == 0) {
		int fd = open(pr.file, O_RDONLY | O_CLOEXEC);
		_exit(fd < 0 ? 1 : 0);
	}
	status = child < 0 ? -errno : probe_wait(child);
	probe_cleanup(d, &pr);
	if (status < 0)
		return status;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -EIO;
	if (c->read_allowed > before.read_allowed)
		c->read_allowed--;
	else if (c->outside > before.outside)
		c->outside--, c->unknown_intent -= c->unknown_intent > before.unknown_intent;
	else
		return -ENOMSG; /* the open went through without reaching us */
	return 0;
}

static void systemd_setup(struct daemon *d)
{
#ifdef FG_HAVE_SYSTEMD
	uint64_t usec = 0;

	d->notify = getenv("NOTIFY_SOCKET") != NULL;
	if (d->notify && sd_watchdog_enabled(0, &usec) > 0)
		d->watchdog_ns = usec * 1000ULL / 2;
#endif
}

/* The status socket is for reporting: failing to open it is logged, not
 * fatal, because guarding matters more than being asked about it. */
static void status_setup(struct daemon *d, int r)
{
	const struct fg_config *cfg = &d->pol->cfg;
	char msg[256];

	if (r < 0) {
		snprintf(msg, sizeof(msg), "cannot serve status on %s: %s", cfg->status_socket,
			 r == -ENOENT && cfg->status_group[0] ? "no such group" : strerror(-r));
		fg_guard_log_daemon(&d->guard, "status-socket", "failure", msg);
		fprintf(stderr, "fanguardd: %s\n", msg);
	}
}

/* The writer cache keeps up to three /proc files open per entry, on top of
 * one fd per permission event read and deferred: take the hard limit, and
 * size the cache to what is left. Subscribing to process events needs
 * CAP_NET_ADMIN before Linux 6.6, so this runs before the capabilities go. */
static void writer_cache(struct daemon *d)
{
	struct rlimit rl;
	unsigned cap = 0;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
		if (rl.rlim_cur > FG_DEFER_MAX + 256)
			cap = (unsigned)((rl.rlim_cur - FG_DEFER_MAX - 256) / 3);
	}
	fg_pcache_init(&d->pcache, cap);
	if (d->opts->no_cache)
		fg_pcache_disable(&d->pcache, "disabled by --no-cache");
	else
		(void)fg_pcache_connect(&d->pcache);
}

/* CAP_AUDIT_WRITE stays only when decisions go to the kernel's audit log:
 * every reload makes a group with FAN_ENABLE_AUDIT. */
static int drop_caps(const struct daemon *d)
{
	struct fg_harden_opts o = FG_HARDEN_OPTS_DEFAULT;

	o.keep_audit_write = d->pol->cfg.audit_records != FG_AUDITREC_NO;
	return fg_harden_caps_opts(&o);
}

static int start(struct daemon *d, struct fg_diag *diag)
{
	/* A group the fd store kept comes first, before anything here opens a
	 * path: its marks are still placed, and our own config or log may lie
	 * under one (the bridge answers us on it until the answering thread
	 * runs). */
	int err = fg_hold_takeover(&d->hold), status_err;

	if (err < 0)
		fprintf(stderr, "fanguardd: taking over the stored group: %s\n", strerror(-err));
	d->pol = load_policy(d->opts, diag);
	if (!d->pol) {
		print_diag(diag);
		return FG_EXIT_CONFIG;
	}
	/* Detach only once the config is known good, so that its errors and
	 * exit code reach whoever started us; and before any thread exists
	 * (a supervisor that passed us a group has us in the foreground). */
	if (!d->opts->foreground && !d->hold.tk.groups && daemon(0, 0) < 0)
		return FG_EXIT_OSERR;
	/* The socket is bound (and chowned to status_group) while we still
	 * may; then the capabilities go, before the logger thread exists,
	 * because capability sets are per thread (the bridge steps aside). */
	status_err = fg_status_open(&d->srv, d->pol->cfg.status_socket, d->pol->cfg.status_group);
	writer_cache(d);
	/* Needs CAP_AUDIT_CONTROL: asked while it is still there. */
	d->loginuid_immutable = fg_ident_loginuid_immutable();
	fg_hold_bridge_pause(&d->hold);
	d->harden_err = drop_caps(d);
	if (fg_hold_bridge_resume(&d->hold) < 0)
		return FG_EXIT_OSERR;
	err = fg_logger_open(&d->log, &d->pol->cfg);
	if (err < 0) {
		fprintf(stderr, "fanguardd: cannot open log sink: %s\n", strerror(-err));
		return FG_EXIT_OSERR;
	}
	if (fg_state_init(&d->state, d->pol->cfg.n_writers) < 0 || setup_signals(d) < 0)
		return FG_EXIT_OSERR;
	(void)fg_hold_setup(&d->hold, &d->pol->cfg);
	d->fan = place_marks(d->pol, &d->hold, &err);
	if (!d->fan) {
		fprintf(stderr, "fanguardd: cannot guard: %s\n", strerror(-err));
		return err == -EPERM ? FG_EXIT_NOPERM : FG_EXIT_OSERR;
	}
	if (fg_guard_init(&d->guard, d->pol, d->fan, &d->log, &d->state) < 0)
		return FG_EXIT_OSERR;
	d->guard.pc = &d->pcache;
	d->guard.perm.ident.pc = &d->pcache;
	fg_guard_add_self(&d->guard, d->log.tid);
	d->pol->generation = d->generation = 1;
	heartbeat_update(d);
	fg_logger_set_heartbeat(&d->log, heartbeat_fill, d);
	fg_hold_handover(&d->hold, &d->guard);
	/* The event threads exist from here on: made before the seccomp
	 * filter (which allows no clone) and after the capability drop. */
	err = fg_guard_start(&d->guard);
	if (err < 0) {
		fprintf(stderr, "fanguardd: cannot start the event threads: %s\n", strerror(-err));
		return FG_EXIT_OSERR;
	}
	fg_hold_started(&d->hold, &d->guard);
	status_setup(d, status_err);
	systemd_setup(d);
	return FG_EXIT_OK;
}

static void stop(struct daemon *d)
{
	static const char held_stop[] =
	    "fanguardd stopped; every event it read was answered, and the fd store keeps the "
	    "permission group: openers of guarded files wait for the next fanguardd";

	/* The event threads answer what they can and stop; then the
	 * permission group goes: the kernel lets every opener still pending
	 * through (a deferred read stays a read) instead of leaving it
	 * blocked on us. */
	fg_guard_stop(&d->guard);
	if (d->fan) {
		free_fan(d->fan);
		d->fan = NULL;
	}
	if (d->guard.perm.proc) {
		fg_guard_log_daemon(&d->guard, "daemon-stop", "success",
				    d->hold.on && d->hold.cur[0] ? held_stop : "fanguardd stopped");
		/* the heartbeat reads the guard's sigwatch: no more of it */
		if (d->log.started)
			fg_logger_set_heartbeat(&d->log, NULL, NULL);
		fg_guard_free(&d->guard);
	}
	fg_hold_free(&d->hold);
	fg_pcache_close(&d->pcache);
	if (d->log.started)
		fg_logger_close(&d->log);
	fg_state_free(&d->state);
	free_policy(d->pol);
	if (d->sigfd >= 0)
		close(d->sigfd);
	fg_status_close(&d->srv);
}

/* Self-test, then READY=1, then the loop. A failed self-test is fatal: a
 * daemon whose group does not deliver events guards nothing, and a restart
 * (or an operator) has to see that. */
static int run_checked(struct daemon *d, char *msg, size_t size)
{
	int r = selftest(d);

	d->selftest = r < 0 ? -1 : 1;
	if (r < 0) {
		snprintf(msg, size, "self-test failed: no permission event came back (%s)",
			 strerror(-r));
		fg_guard_log_daemon(&d->guard, "daemon-start", "failure", msg);
		fprintf(stderr, "fanguardd: %s\n", msg);
		return FG_EXIT_SOFTWARE;
	}
	/* Last step before the loop: the filter also covers the self-test's
	 * fork and everything else start-up needed, by not being there yet. */
	if (!d->harden_err)
		d->harden_err = fg_harden_seccomp();
	describe(d, msg, size);
	fg_guard_log_daemon(&d->guard, "daemon-start", "success", msg);
	if (d->harden_err) {
		snprintf(msg, size, "running WITHOUT capability/seccomp hardening: %s",
			 strerror(-d->harden_err));
		fg_guard_log_daemon(&d->guard, "harden", "failure", msg);
		fprintf(stderr, "fanguardd: %s\n", msg);
	}
	if (!d->pcache.on && !d->opts->no_cache) {
		snprintf(msg, size,
			 "writer cache off (%s): every write resolves its writer from /proc",
			 d->pcache.off ? d->pcache.off : "unknown");
		fg_guard_log_daemon(&d->guard, "writer-cache", "failure", msg);
	}
	notify(d, "READY=1\nMAINPID=%d", (int)getpid());
	notify_status(d);
	d->next_status_ns = fg_now_ns() + NOTIFY_STATUS_NS;
	return loop(d);
}

int fg_daemon_run(const struct fg_daemon_opts *o)
{
	struct daemon d = {.opts = o, .sigfd = -1, .srv = {.fd = -1}};
	struct fg_diag *diag = calloc(1, sizeof(*diag));
	char msg[2048];
	int rc;

	fg_hold_init(&d.hold);
	if (!diag)
		return FG_EXIT_OSERR;
	rc = start(&d, diag);
	free(diag);
	if (rc == FG_EXIT_OK)
		rc = run_checked(&d, msg, sizeof(msg));
	stop(&d);
	return rc;
}
