/* The measuring side: open+close loops, run in this process, at the bottom
 * of a chain of forks, in an exec'd copy (another executable path, so no
 * rule allows it), or in several processes at once. */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int shm_create(struct shm **ret, int *ret_fd)
{
	/* No MFD_CLOEXEC: the exec'd opener maps it by number. */
	int fd = memfd_create("fgbench", 0);
	void *p;

	if (fd < 0)
		return -errno;
	if (ftruncate(fd, sizeof(struct shm)) < 0) {
		close(fd);
		return -errno;
	}
	p = mmap(NULL, sizeof(struct shm), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		close(fd);
		return -errno;
	}
	*ret = p;
	*ret_fd = fd;
	return 0;
}

/* One open (and close when it succeeded). Returns 0 when the outcome is the
 * expected one, else the errno seen (EPROTO: it succeeded but should not). */
static int open_once(const struct open_spec *sp)
{
	int fd = open(sp->path, sp->flags | O_CLOEXEC);

	if (fd >= 0) {
		close(fd);
		return sp->expect ? EPROTO : 0;
	}
	return errno == sp->expect ? 0 : errno;
}

static int32_t count_depth(void)
{
	pid_t pid = getpid();
	int32_t depth = 0;
	char path[64], buf[512];

	while (pid > 1 && depth < 100000) {
		snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
		FILE *f = fopen(path, "re");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		if (f)
			fclose(f);
		buf[n] = '\0';
		char *rp = strrchr(buf, ')');
		int ppid = 0;
		if (!rp || sscanf(rp + 2, "%*c %d", &ppid) != 1)
			break;
		pid = ppid;
		depth++;
	}
	return depth;
}

int opens_run(const struct open_spec *sp, struct shm *s)
{
	uint64_t deadline, t0, t1;
	unsigned n = sp->n > MAX_SAMPLES ? MAX_SAMPLES : sp->n;
	int r;

	s->n = 0;
	s->err = 0;
	s->depth = count_depth();
	/* A slow cell (a 300-deep writer) warms up for a quarter of its
	 * budget at most: the caches are warm long before. */
	deadline = now_ns() + sp->budget_ns / 4;
	for (unsigned i = 0; i < sp->warmup && (i < 50 || now_ns() < deadline); i++) {
		r = open_once(sp);
		if (r) {
			s->err = r;
			return -r;
		}
	}
	deadline = now_ns() + sp->budget_ns;
	for (unsigned i = 0; i < n; i++) {
		t0 = now_ns();
		r = open_once(sp);
		t1 = now_ns();
		if (r) {
			s->err = r;
			return -r;
		}
		s->lat[i] = t1 - t0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(t1 - t0);
		s->n = i + 1;
		if (i + 1 >= MIN_SAMPLES && t1 > deadline)
			break;
	}
	return 0;
}

int opens_first(const struct open_spec *sp, struct shm *s, int timeout_s)
{
	unsigned n = sp->n < MIN_SAMPLES ? sp->n : MIN_SAMPLES;
	uint64_t deadline = now_ns() + sp->budget_ns;

	s->err = 0;
	s->n = 0;
	for (unsigned i = 0; i < n; i++) {
		pid_t pid = child_fork();
		int r;

		if (pid < 0)
			return (int)pid;
		if (pid == 0) {
			/* A new process: nothing about it is cached yet. */
			uint64_t t0 = now_ns();
			int e = open_once(sp);
			uint64_t t1 = now_ns();

			if (e)
				s->err = e;
			s->lat[i] = t1 - t0 > UINT32_MAX ? UINT32_MAX : (uint32_t)(t1 - t0);
			_exit(e ? 1 : 0);
		}
		r = child_wait(pid, timeout_s);
		if (r != 0)
			return r == -ETIMEDOUT ? r : -(s->err ? s->err : ECHILD);
		s->n = i + 1;
		if (i + 1 >= 200 && now_ns() > deadline)
			break;
	}
	return 0;
}

/* Each level forks the next and waits for it; only the leaf opens, so the
 * daemon sees a writer `left` levels below the caller. */
static int chain_level(const struct open_spec *sp, struct shm *s, unsigned left)
{
	pid_t pid;

	if (left == 0)
		return opens_run(sp, s) < 0 ? 1 : 0;
	pid = child_fork();
	if (pid < 0)
		return 2;
	if (pid == 0)
		_exit(chain_level(sp, s, left - 1));
	return child_wait(pid, 3600) == 0 ? 0 : 1;
}

int opens_in_chain(const struct open_spec *sp, struct shm *s, unsigned forks, int timeout_s)
{
	pid_t pid;
	int r;

	if (forks == 0)
		return opens_run(sp, s);
	s->err = 0;
	pid = child_fork();
	if (pid < 0)
		return (int)pid;
	if (pid == 0)
		_exit(chain_level(sp, s, forks - 1));
	r = child_wait(pid, timeout_s);
	if (r == -ETIMEDOUT)
		return r;
	return r == 0 ? 0 : -(s->err ? s->err : ECHILD);
}

int opens_in_exec(const struct open_spec *sp, struct shm *s, int shm_fd, const char *exe,
		  int timeout_s)
{
	char fd_s[16], flags_s[16], expect_s[16], n_s[16], warm_s[16], budget_s[32];
	pid_t pid;
	int r;

	snprintf(fd_s, sizeof(fd_s), "%d", shm_fd);
	snprintf(flags_s, sizeof(flags_s), "%d", sp->flags);
	snprintf(expect_s, sizeof(expect_s), "%d", sp->expect);
	snprintf(n_s, sizeof(n_s), "%u", sp->n);
	snprintf(warm_s, sizeof(warm_s), "%u", sp->warmup);
	snprintf(budget_s, sizeof(budget_s), "%llu", (unsigned long long)sp->budget_ns);
	s->err = 0;
	pid = child_fork();
	if (pid < 0)
		return (int)pid;
	if (pid == 0) {
		execl(exe, exe, "--opener", fd_s, sp->path, flags_s, expect_s, n_s, warm_s,
		      budget_s, (char *)NULL);
		_exit(126);
	}
	r = child_wait(pid, timeout_s);
	if (r == -ETIMEDOUT)
		return r;
	return r == 0 ? 0 : -(s->err ? s->err : ECHILD);
}

/* Numbers the parent wrote itself: a failed parse is a bug, not input. */
static long long arg_num(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '\0' || *end != '\0') {
		fprintf(stderr, "fgbench --opener: bad number '%s'\n", s);
		exit(2);
	}
	return v;
}

int opener_main(int argc, char **argv)
{
	struct open_spec sp;
	struct shm *s;

	if (argc != 7) {
		fprintf(stderr, "fgbench --opener: internal mode, started by fgbench itself\n");
		return 2;
	}
	s = mmap(NULL, sizeof(*s), PROT_READ | PROT_WRITE, MAP_SHARED, (int)arg_num(argv[0]), 0);
	if (s == MAP_FAILED)
		return 3;
	sp = (struct open_spec){.path = argv[1],
				.flags = (int)arg_num(argv[2]),
				.expect = (int)arg_num(argv[3]),
				.n = (unsigned)arg_num(argv[4]),
				.warmup = (unsigned)arg_num(argv[5]),
				.budget_ns = (uint64_t)arg_num(argv[6])};
	return opens_run(&sp, s) < 0 ? 1 : 0;
}

static void throughput_child(const char *path, int flags, unsigned idx, struct shm *s)
{
	uint64_t ops = 0, t;

	while (now_ns() < s->start_ns)
		;
	while ((t = now_ns()) < s->stop_ns) {
		int fd = open(path, flags | O_CLOEXEC);
		if (fd < 0) {
			s->err = errno;
			_exit(1);
		}
		close(fd);
		ops++;
	}
	s->ops[idx] = ops;
	_exit(0);
}

double opens_throughput(const char *path, int flags, unsigned procs, double seconds, struct shm *s)
{
	pid_t pids[MAX_OPENERS];
	uint64_t total = 0;
	int bad = 0;

	if (procs > MAX_OPENERS)
		return -EINVAL;
	memset(s->ops, 0, sizeof(s->ops));
	s->err = 0;
	/* Every opener starts and stops on the same clock reading, so the
	 * rate is over a window in which all of them were running. */
	s->start_ns = now_ns() + 100000000u;
	s->stop_ns = s->start_ns + (uint64_t)(seconds * 1e9);
	for (unsigned i = 0; i < procs; i++) {
		pids[i] = child_fork();
		if (pids[i] == 0)
			throughput_child(path, flags, i, s);
		if (pids[i] < 0)
			bad = (int)pids[i];
	}
	for (unsigned i = 0; i < procs; i++)
		if (pids[i] > 0 && child_wait(pids[i], (int)seconds + 30) != 0)
			bad = -(s->err ? s->err : ECHILD);
	if (bad)
		return bad;
	for (unsigned i = 0; i < procs; i++)
		total += s->ops[i];
	return (double)total / seconds;
}
