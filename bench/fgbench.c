/* fgbench: one run, one set of files, every number issue 5 asks for.
 *
 * The same open+close loop is timed against no listener, against a bare
 * allow-all fanotify listener (the floor: the least any permission guard can
 * cost), and against fanguardd in enforce mode. The benchmark's own binary
 * is the allowed writer (rule `exe = <this program>`); the denied writer is a
 * copy of it at another path, exec'd, which no rule names. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef FG_BENCH_FANGUARDD
#define FG_BENCH_FANGUARDD "fanguardd"
#endif
#ifndef FG_BENCH_SOURCE_CONF
#define FG_BENCH_SOURCE_CONF "etc/fanguard.conf"
#endif

#define WATCHDOG_S     900
#define CELL_TIMEOUT_S 300
#define RATE_SECONDS   1.0

enum where { SELF, EXEC, CHAIN, FIRST };

struct ctx {
	char tmp[64];		   /* mkdtemp under /tmp */
	char self[PATH_MAX];	   /* this program: the allowed writer */
	char denied_exe[PATH_MAX]; /* its copy: the denied writer */
	char prot[PATH_MAX];	   /* the protected file */
	char outside[PATH_MAX];	   /* the same, in an unprotected sibling directory */
	const char *fanguardd;
	const char *src_conf;
	struct shm *s;
	int shm_fd;
	uint64_t budget_ns;
	bool no_digest; /* --no-digest: a fanguardd without `sha256` rules */
	struct results res;
};

static void die(const char *what, int err)
{
	fprintf(stderr, "fgbench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* One latency cell. d: the fanguardd serving it (its event count grows,
 * its log is emptied after: allowed writes log a line each). */
static void measure(struct ctx *c, const char *id, const char *label, const char *path, int flags,
		    int expect, enum where w, unsigned forks, struct fgd *d)
{
	struct open_spec sp = {.path = path,
			       .flags = flags,
			       .expect = expect,
			       .n = c->res.iterations,
			       .warmup = c->res.warmup,
			       .budget_ns = c->budget_ns};
	int r;

	fprintf(stderr, "fgbench: %s\n", label);
	if (w == EXEC)
		r = opens_in_exec(&sp, c->s, c->shm_fd, c->denied_exe, CELL_TIMEOUT_S);
	else if (w == FIRST)
		r = opens_first(&sp, c->s, CELL_TIMEOUT_S);
	else
		r = opens_in_chain(&sp, c->s, w == CHAIN ? forks : 0, CELL_TIMEOUT_S);
	if (r < 0) {
		fprintf(stderr, "fgbench: cell %s: the open did not do what it must (%s)\n", id,
			expect ? "fail with EPERM" : "succeed");
		die(id, r);
	}
	cell_add(&c->res, id, label, c->s);
	if (d && !child_running(d->pid, &r)) {
		/* Numbers taken while it was gone would be the no-listener's. */
		fprintf(stderr,
			"fgbench: fanguardd (%s) exited with %d during cell %s; see %s.stderr\n",
			d->name, r, id, d->log);
		d->pid = 0;
		exit(1);
	}
	if (d) {
		d->opens += sp.warmup + c->s->n;
		if (truncate(d->log, 0) < 0)
			die("truncate log", errno);
	}
}

static void rates(struct ctx *c, const char *setup, const char *kind, int flags, struct fgd *d)
{
	static const unsigned procs[] = {1, 2, 8};

	for (unsigned i = 0; i < 3; i++) {
		double per_s = opens_throughput(c->prot, flags, procs[i], RATE_SECONDS, c->s);
		if (per_s < 0)
			die("throughput", (int)per_s);
		c->res.rates[c->res.n_rates++] =
		    (struct rate){.setup = setup, .kind = kind, .procs = procs[i], .per_s = per_s};
		if (d) {
			d->opens += (uint64_t)(per_s * RATE_SECONDS);
			if (truncate(d->log, 0) < 0)
				die("truncate log", errno);
		}
	}
}

/* fork, _exit, waitpid: what every process on the host pays, and what the
 * writer cache's process events subscription adds to (the kernel builds an
 * event for each exit and exec once anyone listens). One sample a loop. */
static void churn(struct ctx *c, const char *id, const char *label)
{
	unsigned n = c->res.iterations / 10 ? c->res.iterations / 10 : 1;

	fprintf(stderr, "fgbench: %s\n", label);
	c->s->n = 0;
	c->s->depth = 0;
	for (unsigned i = 0; i < n + 100; i++) {
		uint64_t t0 = now_ns();
		pid_t pid = fork();

		if (pid < 0)
			die("fork", errno);
		if (pid == 0)
			_exit(0);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		if (i >= 100 && c->s->n < MAX_SAMPLES)
			c->s->lat[c->s->n++] = (uint32_t)(now_ns() - t0);
	}
	cell_add(&c->res, id, label, c->s);
}

static void phase_none(struct ctx *c)
{
	churn(c, "churn.none", "fork+exit+wait, no listener");
	measure(c, "read.none", "read, no listener", c->prot, O_RDONLY, 0, SELF, 0, NULL);
	measure(c, "write.none", "write, no listener", c->prot, O_WRONLY, 0, SELF, 0, NULL);
	measure(c, "denied.none", "write by the copy, no listener", c->prot, O_WRONLY, 0, EXEC, 0,
		NULL);
}

static void phase_floor(struct ctx *c)
{
	char dir[PATH_MAX];
	pid_t pid;

	snprintf(dir, sizeof(dir), "%s/protected", c->tmp);
	pid = floor_start(dir);
	if (pid < 0)
		die("floor listener", (int)pid);
	measure(c, "read.floor", "read, floor", c->prot, O_RDONLY, 0, SELF, 0, NULL);
	measure(c, "write.floor", "write, floor", c->prot, O_WRONLY, 0, SELF, 0, NULL);
	measure(c, "denied.floor", "write by the copy, floor", c->prot, O_WRONLY, 0, EXEC, 0, NULL);
	measure(c, "first.floor", "first write of a new process, floor", c->prot, O_WRONLY, 0,
		FIRST, 0, NULL);
	rates(c, "floor", "read", O_RDONLY, NULL);
	child_stop(pid, 5);
}

/* Starts fanguardd on a bench config named name; the record is kept in the
 * results whatever happens next. */
static struct fgd *start_digest(struct ctx *c, const char *name, unsigned rules, bool quiet,
				const char *sha256)
{
	struct fgd *d = &c->res.daemons[c->res.n_daemons++];
	char conf[PATH_MAX + 64], log[PATH_MAX + 64];
	int r;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(conf, sizeof(conf), "%s/%s.conf", c->tmp, name);
	snprintf(log, sizeof(log), "%s/fg-%s.log", c->tmp, name);
	r = config_write(conf, c->tmp, name, rules, quiet, c->self, sha256);
	if (r < 0)
		die(conf, r);
	r = fgd_start(d, c->fanguardd, conf, log);
	if (r < 0)
		die("starting fanguardd", r);
	return d;
}

static struct fgd *start(struct ctx *c, const char *name, unsigned rules, bool quiet)
{
	return start_digest(c, name, rules, quiet, NULL);
}

static void phase_base(struct ctx *c)
{
	struct fgd *d;

	/* Right before the daemon starts, so that the two unprotected cells
	 * differ by the daemon and not by what else the machine did. */
	measure(c, "unprotected.none", "unprotected dir, no listener", c->outside, O_RDONLY, 0,
		SELF, 0, NULL);
	d = start(c, "rules10", 10, false);
	measure(c, "unprotected.fanguardd", "unprotected dir, fanguardd", c->outside, O_RDONLY, 0,
		SELF, 0, d);
	churn(c, "churn.fanguardd", "fork+exit+wait, fanguardd");

	measure(c, "read.fanguardd", "read, fanguardd", c->prot, O_RDONLY, 0, SELF, 0, d);
	measure(c, "write.fanguardd", "allowed write (logged), fanguardd", c->prot, O_WRONLY, 0,
		SELF, 0, d);
	measure(c, "denied.fanguardd", "denied write, fanguardd", c->prot, O_WRONLY, EPERM, EXEC, 0,
		d);
	/* Issue 11: a writer's first write pays the identity's verification. */
	measure(c, "first.fanguardd", "first write of a new process, fanguardd", c->prot, O_WRONLY,
		0, FIRST, 0, d);
	measure(c, "scale.rules10", "10 rules, writer 3 forks deep", c->prot, O_WRONLY, 0, CHAIN, 3,
		d);
	measure(c, "scale.depth30", "10 rules, writer 30 forks deep", c->prot, O_WRONLY, 0, CHAIN,
		30, d);
	measure(c, "scale.depth300", "10 rules, writer 300 forks deep", c->prot, O_WRONLY, 0, CHAIN,
		300, d);
	rates(c, "fanguardd", "read", O_RDONLY, d);
	rates(c, "fanguardd", "allowed write (logged)", O_WRONLY, d);
	fgd_stop(d);
}

static void phase_rules(struct ctx *c)
{
	struct fgd *d = start(c, "quiet", 10, true);

	measure(c, "write-quiet.fanguardd", "allowed write (quiet rule), fanguardd", c->prot,
		O_WRONLY, 0, SELF, 0, d);
	/* The same depths without a log line: the logged rows also pay for
	 * formatting every ancestor into each line. */
	measure(c, "scale.quiet3", "quiet rule, writer 3 forks deep", c->prot, O_WRONLY, 0, CHAIN,
		3, d);
	measure(c, "scale.quiet300", "quiet rule, writer 300 forks deep", c->prot, O_WRONLY, 0,
		CHAIN, 300, d);
	fgd_stop(d);
	d = start(c, "rules100", 100, false);
	measure(c, "scale.rules100", "100 rules, writer 3 forks deep", c->prot, O_WRONLY, 0, CHAIN,
		3, d);
	fgd_stop(d);
	d = start(c, "rules1000", 1000, false);
	measure(c, "scale.rules1000", "1000 rules, writer 3 forks deep", c->prot, O_WRONLY, 0,
		CHAIN, 3, d);
	measure(c, "denied.rules1000", "1000 rules, denied write", c->prot, O_WRONLY, EPERM, EXEC,
		0, d);
	fgd_stop(d);
}

/* The content digest of this program, for a `sha256` rule. */
static void self_sha256(const struct ctx *c, char hex[65])
{
	char cmd[PATH_MAX + 32];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "sha256sum '%s'", c->self);
	p = popen(cmd, "r");
	if (!p || fscanf(p, "%64s", hex) != 1 || strlen(hex) != 64)
		die("sha256sum of fgbench", EIO);
	pclose(p);
}

/* Issue 11: a rule on the writer's content. Its digest is computed once
 * per inode, so a cached writer pays nothing for it and a new process
 * pays a lookup. */
static void phase_ident(struct ctx *c)
{
	char hex[65];
	struct fgd *d;

	if (c->no_digest)
		return;
	self_sha256(c, hex);
	d = start_digest(c, "sha256", 10, false, hex);
	measure(c, "write-sha256.fanguardd", "allowed write (sha256 rule), fanguardd", c->prot,
		O_WRONLY, 0, SELF, 0, d);
	measure(c, "first-sha256.fanguardd", "first write of a new process, sha256 rule", c->prot,
		O_WRONLY, 0, FIRST, 0, d);
	fgd_stop(d);
}

/* The shipped policy, moved into the temp dir: its peak RSS is the
 * target's. Reads and denied writes exercise its event path first. */
static void phase_default(struct ctx *c)
{
	struct fgd *d = &c->res.daemons[c->res.n_daemons++];
	static char file[PATH_MAX + 64];
	char conf[PATH_MAX + 64], log[PATH_MAX + 64];
	int r, fd;

	memset(d, 0, sizeof(*d));
	snprintf(d->name, sizeof(d->name), "default-policy");
	snprintf(conf, sizeof(conf), "%s/default.conf", c->tmp);
	snprintf(log, sizeof(log), "%s/fg-default.log", c->tmp);
	r = config_default(conf, c->src_conf, c->tmp);
	if (r < 0)
		die(c->src_conf, r);
	snprintf(file, sizeof(file), "%s/root/etc/sudoers.d/bench", c->tmp);
	fd = open(file, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || close(fd) < 0)
		die(file, errno);
	r = fgd_start(d, c->fanguardd, conf, log);
	if (r < 0)
		die("starting fanguardd (default policy)", r);
	measure(c, "default.read", "default policy: read /etc/sudoers.d", file, O_RDONLY, 0, SELF,
		0, d);
	measure(c, "default.denied", "default policy: denied write", file, O_WRONLY, EPERM, SELF, 0,
		d);
	fgd_stop(d);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
		die(path, errno);
}

/* A byte copy of this program: same code, another /proc/PID/exe. */
static void copy_self(const struct ctx *c)
{
	char buf[65536];
	int in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	int out = open(c->denied_exe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	ssize_t n;

	if (in < 0 || out < 0)
		die("copying fgbench", errno);
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)n) != n)
			die("copying fgbench", errno);
	if (n < 0 || close(out) < 0)
		die("copying fgbench", errno);
	close(in);
}

static void setup(struct ctx *c, bool keep)
{
	char dir[PATH_MAX + 32];
	ssize_t n = readlink("/proc/self/exe", c->self, sizeof(c->self) - 1);
	int r;

	if (n <= 0 || (size_t)n >= sizeof(c->self) - 1)
		die("/proc/self/exe", errno);
	c->self[n] = '\0';
	snprintf(c->tmp, sizeof(c->tmp), "/tmp/fgbench.XXXXXX");
	if (!mkdtemp(c->tmp))
		die("mkdtemp", errno);
	cleanup_install(c->tmp, keep);
	static const char *subdirs[] = {"protected", "outside", "bin"};
	for (unsigned i = 0; i < 3; i++) {
		snprintf(dir, sizeof(dir), "%s/%s", c->tmp, subdirs[i]);
		if (mkdir(dir, 0755) < 0)
			die(dir, errno);
	}
	snprintf(c->prot, sizeof(c->prot), "%s/protected/file", c->tmp);
	snprintf(c->outside, sizeof(c->outside), "%s/outside/file", c->tmp);
	snprintf(c->denied_exe, sizeof(c->denied_exe), "%s/bin/fgbench-denied", c->tmp);
	write_file(c->prot, "benchmark data\n", 0644);
	write_file(c->outside, "benchmark data\n", 0644);
	copy_self(c);
	r = shm_create(&c->s, &c->shm_fd);
	if (r < 0)
		die("shared memory", r);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fgbench [--json] [--fanguardd PATH] [--iterations N] [--budget SECONDS]\n"
		"               [--config-source FILE] [--keep-tmp] [--no-digest]\n"
		"               [--results FILE]   (also write the report as Markdown)\n"
		"Runs as root. Default fanguardd: %s\n",
		FG_BENCH_FANGUARDD);
}

static unsigned long parse_num(const char *opt, const char *s, unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v == 0 || v > max) {
		fprintf(stderr, "fgbench: %s: '%s' is not a number in 1..%lu\n", opt, s, max);
		exit(2);
	}
	return v;
}

static void parse_args(struct ctx *c, int argc, char **argv, bool *json, bool *keep,
		       const char **results)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, 'j'},
	    {"fanguardd", required_argument, NULL, 'f'},
	    {"iterations", required_argument, NULL, 'n'},
	    {"budget", required_argument, NULL, 'b'},
	    {"config-source", required_argument, NULL, 'c'},
	    {"keep-tmp", no_argument, NULL, 'k'},
	    {"no-digest", no_argument, NULL, 'D'},
	    {"results", required_argument, NULL, 'r'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int o;

	while ((o = getopt_long(argc, argv, "jf:n:b:c:kDr:h", opts, NULL)) != -1) {
		if (o == 'j')
			*json = true;
		else if (o == 'f')
			c->fanguardd = optarg;
		else if (o == 'n')
			c->res.iterations =
			    (unsigned)parse_num("--iterations", optarg, MAX_SAMPLES);
		else if (o == 'b')
			c->budget_ns = parse_num("--budget", optarg, 600) * 1000000000ull;
		else if (o == 'c')
			c->src_conf = optarg;
		else if (o == 'k')
			*keep = true;
		else if (o == 'D')
			c->no_digest = true;
		else if (o == 'r')
			*results = optarg;
		else {
			usage(o == 'h' ? stdout : stderr);
			exit(o == 'h' ? 0 : 2);
		}
	}
	if (optind < argc) {
		usage(stderr);
		exit(2);
	}
}

/* --results: the Markdown page, written to a temporary name and renamed
 * so that a failed run leaves the last one in place. */
static int write_results(const struct results *r, const char *path, int argc, char **argv)
{
	char tmp[PATH_MAX], cmd[1024] = "";
	size_t len = 0;
	FILE *f;

	for (int i = 0; i < argc && len < sizeof(cmd); i++)
		len += (size_t)snprintf(cmd + len, sizeof(cmd) - len, "%s%s", i ? " " : "", argv[i]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "we");
	if (!f) {
		perror(tmp);
		return 1;
	}
	report_markdown(f, r, cmd);
	if (fclose(f) != 0 || rename(tmp, path) < 0) {
		perror(path);
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct ctx c = {.fanguardd = FG_BENCH_FANGUARDD,
			       .src_conf = FG_BENCH_SOURCE_CONF,
			       .budget_ns = 4000000000ull,
			       .res = {.iterations = 20000}};
	bool json = false, keep = false;
	const char *results = NULL;

	if (argc > 1 && !strcmp(argv[1], "--opener"))
		return opener_main(argc - 2, argv + 2);
	parse_args(&c, argc, argv, &json, &keep, &results);
	if (geteuid() != 0) {
		fprintf(stderr, "fgbench: fanotify permission events need root\n");
		return 77;
	}
	if (access(c.fanguardd, X_OK) < 0)
		die(c.fanguardd, errno);
	c.res.warmup = c.res.iterations / 20 < 200 ? 200 : c.res.iterations / 20;
	c.res.budget_s = (double)c.budget_ns / 1e9;
	c.res.fanguardd = c.fanguardd;
	setup(&c, keep);
	alarm(WATCHDOG_S);
	phase_none(&c);
	phase_floor(&c);
	phase_base(&c);
	phase_rules(&c);
	phase_ident(&c);
	phase_default(&c);
	alarm(0);
	if (json)
		report_json(&c.res);
	else
		report_text(stdout, &c.res);
	return results ? write_results(&c.res, results, argc, argv) : 0;
}
