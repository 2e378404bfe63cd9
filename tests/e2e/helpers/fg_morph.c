/* fg_morph: a writer that changes what it is between writes, for
 * tests/e2e/test_cache.sh (the writer cache must never decide with an
 * identity the process no longer has).
 *
 *   fg_morph STEP...
 *
 * runs its steps in order; a step is NAME or NAME:ARG:
 *
 *   write:PATH     open(O_WRONLY|O_CREAT|O_TRUNC), write a line, close;
 *                  prints "write PATH pid=P errno=E" (E is 0 when written)
 *   comm:NAME      prctl(PR_SET_NAME)
 *   uid:N          setgroups(0), setresgid(N, N, N), setresuid(N, N, N)
 *   loginuid:N     writes N to /proc/self/loginuid
 *   session:CG     moves itself into the cgroup logind would have made for
 *                  its login uid and audit session id, under the cgroup v2
 *                  mount CG: CG/user.slice/user-AUID.slice/session-SID.scope
 *                  (made if missing, with a trusted.invocation_id as systemd
 *                  gives the scopes it starts); prints "session DIR pid=P"
 *   wait:FIFO      opens FIFO, prints "wait FIFO pid=P", then blocks until
 *                  it can read one byte from it (up to 30 s): the test acts
 *                  on this process in between
 *   exec:PATH      execv(PATH) with the remaining steps as arguments (PATH
 *                  is another copy of this program)
 *   fork           the child runs the remaining steps; the parent waits
 *                  for it and exits with its status
 *   spawn:N        the child runs the next N steps and exits; the parent
 *                  skips them and goes on at once
 *   reap           waits for every child; fails if one failed
 *   trace-parent   PTRACE_SEIZE of the parent, stopping it at the end of
 *                  its next exec (PTRACE_O_TRACEEXEC)
 *   parent-exec    waits (up to 10 s) until the traced parent is stopped
 *                  there; prints "parent-exec pid=P exe=E" with the
 *                  parent's /proc/P/exe as it reads now
 *   untrace        lets the traced parent go (PTRACE_DETACH)
 *   parent-is:PATH spins (up to 10 s) until the parent's /proc/P/exe reads
 *                  PATH, and goes on the moment it does
 *   bigenv:N       adds N short variables to the environment: the next
 *                  exec then spends longer past its point of no return,
 *                  laying them out on the new stack
 *
 * A refused write is a result, not a failure: it is printed and the next
 * step runs. Exit status: 0 when every step ran, 2 when one could not (the
 * reason on stderr; later steps are not run), 3 on a malformed step. The
 * tests copy this binary under other names to give it an executable path
 * that a rule names or does not. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define WAIT_MS	       30000
#define PARENT_EXEC_MS 10000

enum { DONE = 0, FAILED = 2, USAGE = 3 };

static pid_t traced; /* the parent while trace-parent holds it, else 0 */

static int failed(const char *step, const char *what)
{
	fprintf(stderr, "fg_morph[%d]: %s: %s: %s\n", (int)getpid(), step, what, strerror(errno));
	return FAILED;
}

static int parse_u32(const char *s, unsigned *ret)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || *s == '-' || v > UINT_MAX)
		return -1;
	*ret = (unsigned)v;
	return 0;
}

static void sleep_ms(long ms)
{
	const struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	nanosleep(&ts, NULL);
}

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static void say(const char *word, const char *arg, const char *extra)
{
	printf("%s %s pid=%d%s\n", word, arg, (int)getpid(), extra);
	fflush(stdout);
}

static int step_write(const char *path)
{
	char line[64], tail[32];
	int fd, err = 0;
	int len = snprintf(line, sizeof(line), "fg_morph pid=%d\n", (int)getpid());

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
	} else {
		if (write(fd, line, (size_t)len) != len)
			err = errno ? errno : EIO;
		if (close(fd) < 0 && err == 0)
			err = errno;
	}
	snprintf(tail, sizeof(tail), " errno=%d", err);
	say("write", path, tail);
	return DONE;
}

static int step_uid(const char *arg)
{
	unsigned id;

	if (parse_u32(arg, &id) < 0)
		return USAGE;
	if (setgroups(0, NULL) < 0)
		return failed("uid", "setgroups");
	if (setresgid(id, id, id) < 0)
		return failed("uid", "setresgid");
	if (setresuid(id, id, id) < 0)
		return failed("uid", "setresuid");
	return DONE;
}

static int step_loginuid(const char *arg)
{
	unsigned id;
	int fd;
	ssize_t n;

	if (parse_u32(arg, &id) < 0)
		return USAGE;
	fd = open("/proc/self/loginuid", O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return failed("loginuid", "open /proc/self/loginuid");
	n = write(fd, arg, strlen(arg));
	if (n != (ssize_t)strlen(arg)) {
		int err = n < 0 ? errno : EIO;
		close(fd);
		errno = err;
		return failed("loginuid", "write /proc/self/loginuid");
	}
	close(fd);
	return DONE;
}

static int read_id(const char *path, unsigned *ret)
{
	char buf[16] = "";
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return n > 0 ? parse_u32(buf, ret) : -1;
}

static int step_session(const char *cg)
{
	char dir[PATH_MAX], procs[PATH_MAX + 16];
	unsigned auid, sid;
	int fd;

	if (read_id("/proc/self/loginuid", &auid) < 0 || read_id("/proc/self/sessionid", &sid) < 0)
		return failed("session", "read loginuid/sessionid");
	(void)mkdir(cg, 0755);
	snprintf(dir, sizeof(dir), "%s/user.slice", cg);
	(void)mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/user.slice/user-%u.slice", cg, auid);
	(void)mkdir(dir, 0755);
	snprintf(dir, sizeof(dir), "%s/user.slice/user-%u.slice/session-%u.scope", cg, auid, sid);
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return failed("session", "mkdir");
	if (setxattr(dir, "trusted.invocation_id", "0123456789abcdef0123456789abcdef", 32, 0) < 0)
		return failed("session", "setxattr trusted.invocation_id");
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", dir);
	fd = open(procs, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return failed("session", "join the scope");
	}
	close(fd);
	say("session", dir, "");
	return DONE;
}

static int step_wait(const char *fifo)
{
	long deadline = now_ms() + WAIT_MS;
	int fd;
	char c;

	/* Non-blocking, so that the open does not wait for a writer and the
	 * line below tells the test that a byte will now be read. */
	fd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return failed("wait", fifo);
	say("wait", fifo, "");
	for (;;) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		long left = deadline - now_ms();
		ssize_t n;

		if (left <= 0) {
			close(fd);
			errno = ETIMEDOUT;
			return failed("wait", fifo);
		}
		if (poll(&p, 1, (int)left) <= 0)
			continue;
		n = read(fd, &c, 1);
		if (n == 1)
			break;
		/* A writer came and went without a byte: wait for the next. */
		if (n == 0 || errno == EAGAIN)
			sleep_ms(10);
	}
	close(fd);
	return DONE;
}

static int step_exec(const char *path, char **rest, int n_rest)
{
	char **argv = calloc((size_t)n_rest + 2, sizeof(*argv));

	if (!argv)
		return failed("exec", "calloc");
	argv[0] = (char *)path;
	memcpy(argv + 1, rest, (size_t)n_rest * sizeof(*argv));
	fflush(stdout);
	execv(path, argv);
	free(argv);
	return failed("exec", path);
}

static int status_of(int st)
{
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

static int run(char **steps, int n);

/* Returns the child's pid in the parent; the child never returns. */
static pid_t start_child(char **steps, int n)
{
	pid_t child;

	fflush(stdout);
	child = fork();
	if (child == 0)
		_exit(run(steps, n));
	return child;
}

static int step_fork(char **rest, int n_rest)
{
	pid_t child = start_child(rest, n_rest);
	int st;

	if (child < 0)
		return failed("fork", "fork");
	while (waitpid(child, &st, 0) < 0)
		if (errno != EINTR)
			return failed("fork", "waitpid");
	return status_of(st);
}

static int step_reap(void)
{
	int st, worst = DONE;

	for (;;) {
		pid_t p = waitpid(-1, &st, 0);
		if (p < 0 && errno == EINTR)
			continue;
		if (p < 0)
			break;
		if (status_of(st) > worst)
			worst = status_of(st);
	}
	if (errno != ECHILD)
		return failed("reap", "waitpid");
	if (worst != DONE)
		fprintf(stderr, "fg_morph[%d]: reap: a child exited with %d\n", (int)getpid(),
			worst);
	return worst;
}

static int step_trace_parent(void)
{
	pid_t parent = getppid();

	if (ptrace(PTRACE_SEIZE, parent, NULL, (void *)(long)PTRACE_O_TRACEEXEC) < 0)
		return failed("trace-parent", "PTRACE_SEIZE");
	traced = parent;
	return DONE;
}

/* Until the traced parent sits in its exec-event stop: the new executable
 * is in place, the exec has not returned to user space. Any other stop is
 * a signal for it, passed on. */
static int step_parent_exec(void)
{
	long deadline = now_ms() + PARENT_EXEC_MS;
	char link[32], exe[PATH_MAX + 16];
	ssize_t n;
	int st;

	if (!traced) {
		errno = EINVAL;
		return failed("parent-exec", "no trace-parent before");
	}
	for (;;) {
		pid_t p = waitpid(traced, &st, __WALL | WNOHANG);
		if (p < 0 && errno != EINTR)
			return failed("parent-exec", "waitpid");
		if (p == traced && WIFSTOPPED(st)) {
			if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
				break;
			int sig = WSTOPSIG(st) == SIGTRAP ? 0 : WSTOPSIG(st);
			if (ptrace(PTRACE_CONT, traced, NULL, (void *)(long)sig) < 0)
				return failed("parent-exec", "PTRACE_CONT");
			continue;
		}
		if (p == traced) {
			errno = ESRCH;
			return failed("parent-exec", "the parent ended");
		}
		if (now_ms() > deadline) {
			errno = ETIMEDOUT;
			return failed("parent-exec", "no exec stop");
		}
		sleep_ms(1);
	}
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)traced);
	n = readlink(link, exe, sizeof(exe) - 1);
	exe[n < 0 ? 0 : n] = '\0';
	printf("parent-exec pid=%d exe=%s\n", (int)traced, exe);
	fflush(stdout);
	return DONE;
}

static int step_untrace(void)
{
	if (!traced) {
		errno = EINVAL;
		return failed("untrace", "no trace-parent before");
	}
	if (ptrace(PTRACE_DETACH, traced, NULL, NULL) < 0)
		return failed("untrace", "PTRACE_DETACH");
	traced = 0;
	return DONE;
}

static int step_parent_is(const char *path)
{
	long deadline = now_ms() + PARENT_EXEC_MS;
	char link[32], exe[PATH_MAX + 16];

	snprintf(link, sizeof(link), "/proc/%d/exe", (int)getppid());
	/* No sleep: the point is to act within the parent's exec. */
	for (unsigned long i = 0;; i++) {
		ssize_t n = readlink(link, exe, sizeof(exe) - 1);
		if (n < 0)
			return failed("parent-is", link);
		exe[n] = '\0';
		if (!strcmp(exe, path))
			return DONE;
		if (i % 1024 == 0 && now_ms() > deadline) {
			errno = ETIMEDOUT;
			return failed("parent-is", path);
		}
	}
}

static int step_bigenv(const char *arg)
{
	static char pad[] = "FGPAD=";
	unsigned k, n = 0;
	char **env;

	if (parse_u32(arg, &k) < 0 || k > 1000000)
		return USAGE;
	while (environ[n])
		n++;
	env = calloc((size_t)n + k + 1, sizeof(*env));
	if (!env)
		return failed("bigenv", "calloc");
	memcpy(env, environ, n * sizeof(*env));
	for (unsigned i = 0; i < k; i++)
		env[n + i] = pad;
	environ = env;
	return DONE;
}

static int usage(const char *step)
{
	fprintf(stderr, "fg_morph: bad step '%s' (see the comment atop fg_morph.c)\n", step);
	return USAGE;
}

static int run(char **steps, int n)
{
	for (int i = 0; i < n; i++) {
		const char *s = steps[i], *colon = strchr(s, ':');
		const char *arg = colon ? colon + 1 : "";
		size_t len = colon ? (size_t)(colon - s) : strlen(s);
		int r = DONE;

#define IS(name) (len == sizeof(name) - 1 && !strncmp(s, name, len))
		if (IS("write") && *arg)
			r = step_write(arg);
		else if (IS("comm") && *arg)
			r = prctl(PR_SET_NAME, arg, 0, 0, 0) < 0 ? failed(s, "prctl") : DONE;
		else if (IS("uid"))
			r = step_uid(arg);
		else if (IS("loginuid"))
			r = step_loginuid(arg);
		else if (IS("session") && *arg)
			r = step_session(arg);
		else if (IS("wait") && *arg)
			r = step_wait(arg);
		else if (IS("exec") && *arg)
			return step_exec(arg, steps + i + 1, n - i - 1);
		else if (IS("fork") && !colon)
			return step_fork(steps + i + 1, n - i - 1);
		else if (IS("spawn")) {
			unsigned k;
			if (parse_u32(arg, &k) < 0 || k > (unsigned)(n - i - 1))
				return usage(s);
			if (start_child(steps + i + 1, (int)k) < 0)
				return failed(s, "fork");
			i += (int)k;
		} else if (IS("reap") && !colon)
			r = step_reap();
		else if (IS("trace-parent") && !colon)
			r = step_trace_parent();
		else if (IS("parent-exec") && !colon)
			r = step_parent_exec();
		else if (IS("untrace") && !colon)
			r = step_untrace();
		else if (IS("parent-is") && *arg)
			r = step_parent_is(arg);
		else if (IS("bigenv"))
			r = step_bigenv(arg);
		else
			r = USAGE;
#undef IS
		if (r == USAGE)
			return usage(s);
		if (r != DONE)
			return r;
	}
	return DONE;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return usage("");
	return run(argv + 1, argc - 1);
}
