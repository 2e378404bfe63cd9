/* fgbench: what its parts share. The opener loops run in the benchmark
 * itself, in forked children and in an exec'd copy of the binary; they all
 * write their samples into one shared mapping (struct shm). */
#ifndef FGBENCH_BENCH_H
#define FGBENCH_BENCH_H

#include <stdbool.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#define MAX_SAMPLES 200000 /* per cell; --iterations is capped to it */
#define MAX_OPENERS 8	   /* concurrent openers in the throughput cells */
#define MIN_SAMPLES 1000   /* a slow cell still gets this many */

/* Shared with every opener (MAP_SHARED over a memfd, so an exec'd copy can
 * map it too). Only one cell runs at a time. */
struct shm {
	uint64_t start_ns; /* throughput window, CLOCK_MONOTONIC */
	uint64_t stop_ns;
	uint64_t ops[MAX_OPENERS]; /* throughput: opens done per opener */
	int32_t err;		   /* errno of an unexpected outcome, 0 if none */
	int32_t depth;		   /* ancestors of the measuring process */
	uint32_t n;		   /* samples in lat[] */
	uint32_t lat[MAX_SAMPLES]; /* ns per open(+close) */
};

/* One latency cell: what to open and what must happen. */
struct open_spec {
	const char *path;
	int flags;	    /* O_RDONLY or O_WRONLY */
	int expect;	    /* 0: the open succeeds; else the errno it must fail with */
	unsigned n;	    /* samples wanted */
	unsigned warmup;    /* opens before measuring */
	uint64_t budget_ns; /* stop early past this, once MIN_SAMPLES are in */
};

/* ---- opener.c */

/* The shared mapping and its fd (inherited by exec'd openers). Returns 0 or
 * -errno. */
int shm_create(struct shm **ret, int *ret_fd);

uint64_t now_ns(void);

/* Runs the cell in this process into s. Returns 0 or -errno (the
 * unexpected outcome, also left in s->err). */
int opens_run(const struct open_spec *sp, struct shm *s);

/* Runs the cell in the leaf of a chain of `forks` processes below this one.
 * Returns 0 or -errno; -ETIMEDOUT when it took longer than timeout_s. */
int opens_in_chain(const struct open_spec *sp, struct shm *s, unsigned forks, int timeout_s);

/* Runs the cell in a child that execs `exe` (a copy of this program) with
 * the hidden --opener mode. Returns 0 or -errno. */
int opens_in_exec(const struct open_spec *sp, struct shm *s, int shm_fd, const char *exe,
		  int timeout_s);

/* Runs the cell's opens one per new process (forked, not exec'd: the
 * allowed exe): each sample is a writer's first write, its identity not yet
 * cached. At most MIN_SAMPLES. Returns 0 or -errno. */
int opens_first(const struct open_spec *sp, struct shm *s, int timeout_s);

/* The --opener mode of an exec'd copy: argv after "--opener". Returns the
 * exit code. */
int opener_main(int argc, char **argv);

/* Opens per second with `procs` forked openers for `seconds`. Returns the
 * rate, or a negative -errno. */
double opens_throughput(const char *path, int flags, unsigned procs, double seconds, struct shm *s);

/* ---- procs.c: every process fgbench starts, and their end */

/* Forks a child that dies with us (PR_SET_PDEATHSIG) and is killed by the
 * exit/signal cleanup if still running. Returns the pid (0 in the child) or
 * -errno. */
pid_t child_fork(void);

/* Waits for pid up to timeout_s, then kills it. Returns its exit code, 128 +
 * signal, or -ETIMEDOUT. */
int child_wait(pid_t pid, int timeout_s);

/* Whether pid still runs; reaps it when it does not, with its exit code
 * (128 + signal when killed) in *ret_status if not NULL. */
bool child_running(pid_t pid, int *ret_status);

/* Sends SIGTERM, waits up to timeout_s, then SIGKILL; reaps it. */
void child_stop(pid_t pid, int timeout_s);

/* Installs the atexit and signal cleanup: kills what child_fork started and
 * removes dir (recursively) if not NULL and keep is false. */
void cleanup_install(const char *dir, bool keep);

/* ---- listener.c: the floor */

/* Starts a child that answers FAN_ALLOW to every FAN_OPEN_PERM on dir's
 * children and nothing else. Returns its pid once its mark is placed, or
 * -errno. */
pid_t floor_start(const char *dir);

/* ---- daemon.c: fanguardd under test */

struct fgd {
	pid_t pid;
	char name[32];	/* config label in the report */
	char log[4096]; /* its log file: readiness and the denials */
	uint64_t opens; /* guarded opens sent to it (for CPU per open) */
	long hwm_kib;	/* VmHWM at stop */
	long rss_kib;	/* VmRSS at stop */
	double cpu_ms;	/* utime + stime at stop */
};

/* Writes a bench config at conf: `rules` writer rules of which only the
 * last matches `exe` (and, with sha256 non-NULL, its content digest).
 * Returns 0 or -errno. */
int config_write(const char *conf, const char *tmp, const char *name, unsigned rules, bool quiet,
		 const char *exe, const char *sha256);

/* The shipped policy (src) with every path moved under tmp/root, the log
 * and socket into tmp; creates those paths. Returns 0 or -errno. */
int config_default(const char *conf, const char *src, const char *tmp);

/* Starts fanguardd on conf; returns once it logged daemon-start into
 * d->log (which the config must name). Returns 0 or -errno. */
int fgd_start(struct fgd *d, const char *fanguardd, const char *conf, const char *log);

/* Records peak RSS and CPU, then stops it. */
void fgd_stop(struct fgd *d);

/* ---- report.c */

struct cell {
	const char *id;	      /* stable key, also the JSON name */
	const char *label;    /* what the table says */
	unsigned n;	      /* samples */
	int depth;	      /* ancestors of the opener (to pid 1) */
	double p50, p90, p99; /* µs */
};

struct rate {
	const char *setup; /* floor / fanguardd */
	const char *kind;  /* read / write */
	unsigned procs;
	double per_s;
};

struct results {
	struct cell cells[40];
	unsigned n_cells;
	struct rate rates[16];
	unsigned n_rates;
	struct fgd daemons[8];
	unsigned n_daemons;
	unsigned iterations, warmup;
	double budget_s;
	const char *fanguardd;
};

/* Sorts s's samples and appends their percentiles as cell id. */
void cell_add(struct results *r, const char *id, const char *label, const struct shm *s);
const struct cell *cell_get(const struct results *r, const char *id);
void report_text(FILE *f, const struct results *r);
/* The same as a Markdown page (bench/RESULTS.md), naming the command. */
void report_markdown(FILE *f, const struct results *r, const char *cmdline);
void report_json(const struct results *r);

#endif
